"""The account office's work on applications: list, show, approve, reject, verify.

Each function takes the acting operator (``actor``), checks the application's state under a
lock, records the transition (history, audit, email) and leaves the commit to the caller,
which is either ``kleidi applications`` or a page under ``/manage``: both call these.
"""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app

from idp import clock, db, errors
from idp.identity import accounts, domains, issuer, sync, usernames
from idp.identity.applications import history
from idp.identity.applications.models import (
    ACCOUNT_CREATED,
    REJECTED,
    SUBMITTED,
    VERIFIED,
    Application,
    Verification,
)
from idp.identity.models import Account, Affiliation, Person, RegistryRecord


def find(serial: str, *, lock: bool = False) -> Application:
    """The application with this serial number; APPLY-011 if there is none."""
    query = sa.select(Application).where(Application.serial == serial.strip())
    found = db.session().scalar(query.with_for_update() if lock else query)
    if found is None:
        raise errors.KleidiError("APPLY-011", serial=serial)
    return found


def account_of(application: Application) -> Account | None:
    """The account the application created or linked, once approved."""
    return db.session().get(Account, application.account_id) if application.account_id \
        else None


def listing(status: str | None = None) -> list[Application]:
    """Applications, newest first, optionally only those in ``status``."""
    query = sa.select(Application).order_by(Application.id.desc())
    if status:
        query = query.where(Application.status == status)
    return list(db.session().scalars(query))


def of_person(person_id: int) -> list[Application]:
    """The applications that led to ``person_id``'s account (or were linked to the person),
    newest first."""
    query = (sa.select(Application).where(Application.person_id == person_id)
             .order_by(Application.id.desc()))
    return list(db.session().scalars(query))


def required_evidence(role: str) -> list[str]:
    """The evidence kinds the office must see for ``role``, besides the identity document."""
    config = current_app.config["APPLICATION_EVIDENCE"]
    return list(config.get(role, config.get("*", [])))


def evidence_kinds() -> list[str]:
    """Every evidence kind the configuration names."""
    return sorted({kind for kinds in current_app.config["APPLICATION_EVIDENCE"].values()
                   for kind in kinds})


def approve(serial: str, *, actor: str, link: str | None = None,
            note: str | None = None) -> Application:
    """Create or link the person, add the affiliation, create or keep the one personal
    account. ``link``: the username of an account whose person this is (an office decision,
    audited). APPLY-003 if already decided, APPLY-008 if the link would give a person a
    second personal account, APPLY-016 if ``link`` is no account."""
    _one_decision_at_a_time()
    application = find(serial, lock=True)
    if application.status != SUBMITTED:
        raise errors.KleidiError("APPLY-003", serial=serial, status=application.status)
    record = db.session().get(RegistryRecord, application.registry_record_id) \
        if application.registry_record_id else None
    person = _person(application, record, link, actor)
    _affiliation(person, application, record)
    account, created = _account(person, application)
    application.person_id, application.account_id = person.id, account.id
    history.transition(application, ACCOUNT_CREATED, actor=actor, note=note,
                       email={"username": account.username, "existing": not created,
                              "evidence": required_evidence(application.role)},
                       username=account.username, account_created=created, linked=bool(link))
    return application


def reject(serial: str, *, actor: str, reason: str) -> Application:
    """Reject a submitted application with a reason the applicant reads (APPLY-012 without
    one, APPLY-003 once decided)."""
    if not (reason or "").strip():
        raise errors.KleidiError("APPLY-012", serial=serial)
    _one_decision_at_a_time()
    application = find(serial, lock=True)
    if application.status != SUBMITTED:
        raise errors.KleidiError("APPLY-003", serial=serial, status=application.status)
    application.reason = reason.strip()[:500]
    history.transition(application, REJECTED, actor=actor, note=application.reason,
                       email={"reason": application.reason})
    return application


def verify(serial: str, *, actor: str, document_kind: str, document_number: str,
           evidence: list[str] | tuple[str, ...] = ()) -> Verification:
    """Record the identity check done in person: the document seen and the evidence the
    role needs. APPLY-005 before approval, APPLY-003 when already verified or rejected,
    APPLY-013 for an unknown kind, APPLY-007 if the document is not the application's,
    APPLY-006 if evidence is missing."""
    application = find(serial, lock=True)
    if application.status == SUBMITTED:
        raise errors.KleidiError("APPLY-005", serial=serial)
    if application.status != ACCOUNT_CREATED:
        raise errors.KleidiError("APPLY-003", serial=serial, status=application.status)
    known = current_app.config["APPLICATION_DOCUMENTS"]
    if document_kind not in known or any(kind not in evidence_kinds() for kind in evidence):
        raise errors.KleidiError("APPLY-013", serial=serial)
    if document_kind == application.document_kind and \
            _plain(document_number) != _plain(application.document_number):
        raise errors.KleidiError("APPLY-007", serial=serial)
    missing = [kind for kind in required_evidence(application.role) if kind not in evidence]
    if missing:
        raise errors.KleidiError("APPLY-006", serial=serial, missing=missing)
    check = Verification(application_id=application.id, document_kind=document_kind,
                         document_number=document_number.strip()[:40],
                         evidence=sorted(set(evidence)), actor=actor, at=clock.now())
    db.session().add(check)
    history.transition(application, VERIFIED, actor=actor, email={},
                       document_kind=document_kind, evidence=check.evidence)
    return check


def verifications(application: Application) -> list[Verification]:
    return list(db.session().scalars(sa.select(Verification).where(
        Verification.application_id == application.id).order_by(Verification.id)))


def _plain(number: str) -> str:
    return "".join(ch for ch in (number or "").upper() if ch.isalnum())


def _one_decision_at_a_time() -> None:
    """Serialise the office's decisions (a lock on a row that is never anything else), so
    that two approvals never pick the same new username."""
    from idp.identity.applications.submission import next_serial

    next_serial(0)


def _person(application: Application, record: RegistryRecord | None, link: str | None,
            actor: str) -> Person:
    """The applicant's person: the one the HR record or the AMKA points to, or the one the
    office links, or a new one with a new AcademicID."""
    known = sync.person_of(record) if record else None
    if known is None and application.amka:
        known = db.session().scalar(sa.select(Person).where(Person.amka == application.amka))
    if link:
        account = accounts.find_by_username(link)
        if account is None:
            raise errors.KleidiError("APPLY-016", serial=application.serial)
        if known is not None and known.id != account.person_id:
            raise errors.KleidiError("APPLY-008", serial=application.serial)
        known = account.person
        history.record("application.linked", application, actor=actor,
                       reason=f"linked to {account.username}", username=account.username)
    person = known or _new_person(application, record)
    if record is not None and record.person_id is None:
        record.person_id = person.id
    return person


def _new_person(application: Application, record: RegistryRecord | None) -> Person:
    source = record or SimpleNamespace(
        academic_id=None, ssn=application.amka, ssn_country="GR" if application.amka else None,
        birth_date=None, last_name_el=application.family_name_el,
        first_name_el=application.given_name_el)
    try:
        academic_id = issuer.academic_id_for(source)
    except issuer.IssuerUnavailable:
        raise errors.KleidiError("LIFE-007") from None
    person = Person(academic_id=academic_id, given_name_el=application.given_name_el,
                    family_name_el=application.family_name_el,
                    given_name_en=application.given_name_en,
                    family_name_en=application.family_name_en, amka=application.amka)
    db.session().add(person)
    db.session().flush()
    return person


def _affiliation(person: Person, application: Application, record: RegistryRecord | None):
    """The role applied for, unless the person already holds it from that HR record."""
    session = db.session()
    if record is not None and session.scalar(sa.select(Affiliation.id).where(
            Affiliation.registry_record_id == record.id, Affiliation.status == "active")):
        return
    session.add(Affiliation(
        person_id=person.id, role=application.role, department_id=None,
        registration_id=record.registration_id if record else application.serial,
        source_registry="hr" if record else "application",
        registry_record_id=record.id if record else None,
        valid_from=application.contract_start or clock.now().date(),
        valid_through=application.contract_end, status="active"))
    session.flush()


def _account(person: Person, application: Application) -> tuple[Account, bool]:
    """The person's one personal account (kept, its domain by precedence), or a new one in
    the pending state; True when new."""
    session = db.session()
    account = session.scalar(sa.select(Account).where(Account.person_id == person.id,
                                                      Account.kind == "personal"))
    roles = list(session.scalars(sa.select(Affiliation.role).where(
        Affiliation.person_id == person.id, Affiliation.status == "active")))
    if account is not None:
        account.domain = domains.of_roles(roles)
        return account, False
    account = Account(person_id=person.id, kind="personal", status="pending",
                      username=usernames.staff_username(application.given_name_en,
                                                        application.family_name_en),
                      domain=domains.of_roles(roles), external_email=application.email,
                      mobile=application.mobile, language=application.language)
    session.add(account)
    session.flush()
    return account, True
