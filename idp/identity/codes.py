"""Error codes of the account lifecycle (LIFE) and of the account page's services (ACCT)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from idp.errors import define


class WithOffice:
    """A message naming the account office's address, filled in when shown."""

    def __init__(self, text):
        self.text = text

    def __str__(self) -> str:
        return str(self.text) % {"office": current_app.config["LIFECYCLE_OFFICE_EMAIL"]}

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __eq__(self, other) -> bool:
        return isinstance(other, WithOffice) and other.text == self.text

    def __hash__(self) -> int:
        return hash(str(self.text))


define("LIFE-001", 403, _l("Your account has been deactivated"),
       WithOffice(_l(
           "According to the university's registries your role has ended, so this account was "
           "deactivated. If you are still a member, send proof to the account office "
           "(%(office)s): students, a certificate of studies from their department's "
           "secretariat; postdoctoral researchers and researchers, a certificate from their "
           "scientific supervisor sent from an institutional address and a solemn declaration "
           "through gov.gr; contractors, the contract (or, while it awaits signature, the "
           "supervisor's certificate and a declaration); academic fellows, P.D. 407/80 "
           "lecturers and teaching-experience members, the appointment decision or the "
           "contract. Once the office records it, you can sign in again.")))
define("LIFE-002", 403, _l("This service is not available to alumni"),
       _l("Your account is in the alumni state: it signs in to your account page and to the "
          "services that stay after studies (such as email), not to this one."))
define("LIFE-003", 400, _l("Unknown kind of evidence"),
       _l("An extension records one of the configured kinds of evidence."))
define("LIFE-004", 400, _l("The new end date must be in the future"),
       _l("An extension sets an end date after today."))
define("LIFE-005", 400, _l("A note is required"),
       _l("Say what was checked, so that the extension can be reviewed later."))
define("LIFE-006", 409, _l("The account is disabled"),
       _l("A disabled account is enabled by the helpdesk before it can be extended."))
define("LIFE-007", 503, _l("The AcademicID service is not answering"),
       _l("Your account cannot be created until the central AcademicID service answers. "
          "Nothing was saved: wait a few minutes and press the button again."))
define("ACCT-003", 403, _l("This service is not available to your account"),
       _l("Your roles do not include this service. If you think they should, contact the "
          "helpdesk."))
