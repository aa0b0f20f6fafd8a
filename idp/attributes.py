"""The one internal attribute vocabulary, computed for an account.

Protocol adapters map these names to SAML attributes and OIDC claims and release only what
their relying party is approved for. Names:

``eduperson_unique_id``, ``subject_id``, ``schgr_ac_person_id`` (the shared AcademicID forms),
``eppn``, ``affiliation``, ``scoped_affiliation``, ``primary_affiliation``, ``entitlement``,
``display_name``, ``given_name``, ``family_name``, ``email``, ``schac_home_organization``,
``schac_home_organization_type``, ``schac_personal_unique_code``, ``schac_expiry_date``.
Pairwise values depend on the relying party: :func:`pairwise_id`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app, g
from flask_babel import lazy_gettext as _l

from idp import db
from idp.identity import identifiers, roles, services
from idp.identity.models import Account, Affiliation, Person

#: Internal names with a label for consent screens.
LABELS = {
    "eduperson_unique_id": _l("Unique identifier"),
    "subject_id": _l("Unique identifier"),
    "schgr_ac_person_id": _l("Academic ID"),
    "pairwise_id": _l("Identifier for this service"),
    "eppn": _l("Username"),
    "affiliation": _l("Affiliation"),
    "scoped_affiliation": _l("Affiliation in the institution"),
    "primary_affiliation": _l("Primary affiliation"),
    "entitlement": _l("Entitlements"),
    "display_name": _l("Full name"),
    "given_name": _l("Given name"),
    "family_name": _l("Family name"),
    "email": _l("Email"),
    "schac_home_organization": _l("Home organisation"),
    "schac_home_organization_type": _l("Type of home organisation"),
    "schac_personal_unique_code": _l("Student registration number"),
    "schac_expiry_date": _l("Account end date"),
}


#: The AcademicID and what derives from it are never shown to the person (it is opaque and
#: theirs for life): the consent screen says what each one is instead of its value.
NOT_SHOWN = {
    "eduperson_unique_id": _l("A permanent identifier, the same at every service that "
                              "receives it"),
    "subject_id": _l("A permanent identifier, the same at every service that receives it"),
    "schgr_ac_person_id": _l("A permanent identifier, the same at every service that "
                             "receives it"),
    "pairwise_id": _l("A pseudonymous identifier for this service"),
}


def shown(name: str, values: list[str]) -> list[str]:
    """What a person may see of an attribute released about them (consent screens)."""
    return [str(NOT_SHOWN[name])] if name in NOT_SHOWN else values


class Profile(NamedTuple):
    """What the vocabulary is computed from: the person's names and AcademicID (and the one
    relying parties already had, if any), and the (role, department, registration) of each
    active affiliation."""

    academic_id: str
    released_academic_id: str | None
    given_name_el: str
    family_name_el: str
    given_name_en: str | None
    family_name_en: str | None
    affiliations: tuple[tuple[str, str | None, str | None], ...]


# One prepared statement: every answer to a relying party runs it, and building an ORM query
# (or loading ORM objects) costs several times what the database takes to answer.
_PROFILE = (
    sa.select(Person.academic_id, Person.released_academic_id, Person.given_name_el,
              Person.family_name_el, Person.given_name_en, Person.family_name_en, Affiliation.role,
              Affiliation.department_id, Affiliation.registration_id)
    .select_from(Account)
    .join(Person, Person.id == Account.person_id)
    .outerjoin(Affiliation, sa.and_(Affiliation.person_id == Person.id,
                                    Affiliation.status == "active"))
    .where(Account.id == sa.bindparam("account_id"))
    .order_by(Affiliation.id)
)


def profile(account: Account) -> Profile:
    """The account's person and active affiliations, read once per request (an answer to a
    relying party does not change them on its way)."""
    cache = g.setdefault("kleidi_profiles", {})
    if account.id not in cache:
        rows = db.read(_PROFILE, account_id=account.id)
        first = rows[0]
        cache[account.id] = Profile(
            *first[:6], tuple(tuple(row[6:]) for row in rows if row.role is not None))
    return cache[account.id]


def active_roles(account: Account) -> list[str]:
    return [role for role, _department, _registration in profile(account).affiliations]


def person_attributes(account: Account, lang: str = "en",
                      wanted: Collection[str] | None = None) -> dict[str, list[str]]:
    """Every attribute of the vocabulary that the account has a value for (of those
    ``wanted``, if given: entitlements cost a database read that most answers do without)."""
    config = current_app.config
    person, scope = profile(account), config["SCOPE"]
    names = active_roles(account)
    given = person.given_name_el if lang == "el" else person.given_name_en or person.given_name_el
    family = (person.family_name_el if lang == "el"
              else person.family_name_en or person.family_name_el)
    affiliations = roles.eduperson_affiliations(names)
    shared = identifiers.shared_unique(person.academic_id, person.released_academic_id)
    values = {
        "eduperson_unique_id": [identifiers.scoped(shared)],
        "subject_id": [identifiers.scoped(shared)],
        "schgr_ac_person_id": [shared],
        "eppn": [account.eppn],
        "affiliation": affiliations,
        "scoped_affiliation": [f"{value}@{scope}" for value in affiliations],
        "primary_affiliation": [p] if (p := roles.primary_affiliation(names)) else [],
        "entitlement": services.entitlements(account, names)
        if wanted is None or "entitlement" in wanted else [],
        "display_name": [f"{given} {family}".strip()],
        "given_name": [given],
        "family_name": [family],
        "email": [account.eppn],
        "schac_home_organization": [scope],
        "schac_home_organization_type": [config["HOME_ORGANIZATION_TYPE"]],
        "schac_personal_unique_code": personal_unique_codes(account),
        "schac_expiry_date": [expiry_date(account)] if account.expires_at else [],
    }
    return {name: value for name, value in values.items() if any(value)}


def expiry_date(account: Account) -> str:
    """schacExpiryDate: the account's end as GeneralizedTime (``YYYYMMDDHHMMSSZ``, UTC)."""
    return account.expires_at.strftime("%Y%m%d%H%M%SZ")


def personal_unique_codes(account: Account) -> list[str]:
    """SCHAC personal unique codes of the person's student registrations."""
    scope = current_app.config["SCOPE"]
    return [
        "urn:mace:terena.org:schac:personalUniqueCode:gr:"
        f"{scope}:{department}:{registration}"
        for role, department, registration in profile(account).affiliations
        if roles.ROLES[role].student and registration
    ]


def pairwise_unique(account: Account, sector: str) -> str:
    """The pairwise value (unique part) of this person for one relying-party sector."""
    person = profile(account)
    return identifiers.pairwise_unique(person.academic_id, sector, person.released_academic_id)


def pairwise_id(account: Account, sector: str) -> str:
    """``<pairwise>@<scope>``: the pairwise-id attribute value."""
    return identifiers.scoped(pairwise_unique(account, sector))
