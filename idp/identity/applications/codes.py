"""The error codes of applications, the account office and the hand-over (APPLY-...)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from idp import errors

_OFFICE = _l("Write to the account office with the serial number of the application.")

errors.define("APPLY-001", 404, _l("No application matches"),
              _l("There is no application with this serial number and secret. Check both "
                 "in the email you received when you applied."))
errors.define("APPLY-002", 429, _l("Too many look-ups"),
              _l("The status of applications was asked for too many times. Wait an hour "
                 "and try again."))
errors.define("APPLY-003", 409, _l("The application was already decided"),
              _l("This application was already approved or rejected; it cannot be decided "
                 "again."))
errors.define("APPLY-004", 409, _l("Identity not verified yet"),
              _l("The account is handed over only after the office has verified the "
                 "person's identity and the evidence their role needs."))
errors.define("APPLY-005", 409, _l("The application is not approved"),
              _l("Identity is verified after the application is approved and its account "
                 "created."))
errors.define("APPLY-006", 400, _l("Evidence missing"),
              _l("This role needs further evidence before the identity check is complete "
                 "(for contractors, the solemn declaration and the university's "
                 "certificate of the role)."))
errors.define("APPLY-007", 400, _l("The document does not match the application"),
              _l("The identity document checked is not the one the application names."))
errors.define("APPLY-008", 409, _l("The person already has a personal account"),
              _l("Each person has exactly one personal account. This application cannot "
                 "be linked to another person's account."))
errors.define("APPLY-009", 404, _l("This set-password link does not work"),
              _l("The link or code is unknown, was already used, or has expired. %(next)s",
                 next=_OFFICE))
errors.define("APPLY-010", 429, _l("Too many codes tried"),
              _l("Too many set-password codes were tried from your connection. Wait an "
                 "hour and try again."))
errors.define("APPLY-011", 404, _l("No such application"),
              _l("There is no application with this serial number."))
errors.define("APPLY-012", 400, _l("A reason is required"),
              _l("A rejection must say why: the applicant reads the reason."))
errors.define("APPLY-013", 400, _l("Unknown kind of document or evidence"),
              _l("The kind of document or evidence is not one the configuration lists."))
errors.define("APPLY-014", 429, _l("Too many applications"),
              _l("Too many applications were sent from your connection. Wait an hour and "
                 "try again."))
errors.define("APPLY-015", 409, _l("The account is already in use"),
              _l("The account of this application already has a password: its owner signs "
                 "in with it, or recovers it with \"Forgot your password?\"."))
errors.define("APPLY-016", 404, _l("No such account"),
              _l("There is no account with this username to link the application to."))
