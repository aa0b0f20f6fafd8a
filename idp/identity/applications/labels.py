"""What the states, documents and evidence kinds of applications are called, in words."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUSES = {
    "submitted": _l("Submitted"),
    "account_created": _l("Account created"),
    "verified": _l("Identity verified"),
    "handed_over": _l("Account handed over"),
    "rejected": _l("Rejected"),
}
DOCUMENTS = {
    "id_card": _l("Police identity card"),
    "passport": _l("Passport"),
    "residence_permit": _l("Residence permit"),
}
EVIDENCE = {
    "solemn_declaration": _l("Solemn declaration of the kind and duration of the collaboration"),
    "role_certificate": _l("The university's certificate of the role (the scientific "
                           "supervisor's or the unit head's)"),
}


def status(value: str):
    return STATUSES.get(value, value)


def document(value: str):
    return DOCUMENTS.get(value, value)


def evidence(value: str):
    return EVIDENCE.get(value, value)


def role(value: str):
    from idp.identity.roles import ROLES

    return ROLES[value].label if value in ROLES else value
