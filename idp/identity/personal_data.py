""""Download my data": what the IdP holds about a person, and which relying parties received
what and when, as one JSON-ready document.

The AcademicID is left out on purpose: it is never shown to the person (relying parties
receive it only as the identifiers the release table names).
"""

from __future__ import annotations

import sqlalchemy as sa

from idp import consent, db
from idp.audit import AuditEvent
from idp.identity import contacts, extensions, standing
from idp.identity.models import Account, Affiliation

#: Audit events that record something reaching a relying party.
RELEASE_EVENTS = ("consent.granted", "oidc.code_issued", "saml.logout")


def _day(value) -> str | None:
    return value.isoformat() if value else None


def export(account: Account) -> dict:
    """Everything held about ``account``'s person, JSON-ready."""
    person = account.person
    return {
        "person": {"given_name_el": person.given_name_el, "family_name_el": person.family_name_el,
                   "given_name_en": person.given_name_en, "family_name_en": person.family_name_en,
                   "birth_date": _day(person.birth_date), "amka": person.amka,
                   "foreign_ssn": person.foreign_ssn,
                   "foreign_ssn_country": person.foreign_ssn_country, "ehic": person.ehic},
        "affiliations": [_affiliation(a) for a in db.session().scalars(
            sa.select(Affiliation).where(Affiliation.person_id == person.id)
            .order_by(Affiliation.id))],
        "account": {"username": account.username, "eppn": account.eppn,
                    "created_at": _day(account.created_at),
                    "activated_at": _day(account.activated_at),
                    "password_changed_at": _day(account.password_changed_at),
                    **standing.of(account)},
        "recovery_contacts": [{"channel": c.channel, "value": c.value, "source": c.source,
                               "registry": c.registry}
                              for c in contacts.recovery_contacts(account)],
        "extensions": [{"until": _day(e.until), "evidence": e.evidence, "at": _day(e.at)}
                       for e in db.session().scalars(sa.select(extensions.Extension).where(
                           extensions.Extension.account_id == account.id))],
        "consents": [{"relying_party": c.relying_party, "attributes": list(c.attribute_names),
                      "granted_at": _day(c.granted_at)} for c in consent.list_for(account)],
        "releases": releases(account),
    }


def _affiliation(a: Affiliation) -> dict:
    return {"role": a.role, "department": a.department_id, "registration": a.registration_id,
            "registry": a.source_registry, "status": a.status, "from": _day(a.valid_from),
            "through": _day(a.valid_through)}


def releases(account: Account) -> list[dict]:
    """When each relying party received the person's data (consents and OIDC codes)."""
    rows = db.session().scalars(sa.select(AuditEvent).where(
        AuditEvent.account_id == account.id, AuditEvent.event.in_(RELEASE_EVENTS))
        .order_by(AuditEvent.at))
    return [{"at": _day(row.at), "event": row.event,
             "relying_party": (row.detail or {}).get("relying_party")
             or (row.detail or {}).get("client_id"),
             "attributes": (row.detail or {}).get("attributes")} for row in rows]
