"""The last step of activation, in one transaction: person, affiliation, account, audit.

Either all of it is committed or none of it: a failure at any point (a unique index, the
database going away) leaves no half-made person or account, and the flow stays at the
password step so the person can try again.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from idp import audit, clock, db, flows
from idp.errors import KleidiError
from idp.identity import accounts, domains, issuer, sync, usernames
from idp.identity.models import Account, Affiliation, Person, RegistryRecord
from idp.identity.usernames import RetiredUsername
from selfservice.activation import identity


def held_by_another(username: str, person: Person | None) -> bool:
    """True if ``username`` belongs, or once belonged, to someone else: never reissued."""
    owners = db.session().scalars(
        sa.select(Account.person_id).where(Account.username == username).union(
            sa.select(Account.person_id).join(RetiredUsername,
                                              RetiredUsername.account_id == Account.id)
            .where(RetiredUsername.username == username))
    ).all()
    return any(owner != (person.id if person else None) for owner in owners)


def complete(flow: flows.Flow, password: str) -> Account:
    """Create or reuse the person, add the affiliation, issue the account; move to done."""
    session = db.session()
    try:
        record = session.scalars(sa.select(RegistryRecord).where(
            RegistryRecord.id == flow.data["record_id"]).with_for_update()).one()
        person, reused = _person(record, flow.data.get("ssn"))
        _affiliation(person, record)
        account, transfer = _account(person, record, flow, password)
        if transfer:
            sync.end_for_transfer(person, record, sync.Changes(actor="activation"))
        audit.record("activation.completed", account=account, person=person,
                     academic_id_reused=reused, transfer=transfer,
                     registration=record.registration_id)
        flows.advance(flow, "done", username=account.username)
        # nothing personal outlives the flow; whether recovery can reach the person is shown
        flow.data = {"username": account.username, "role": flow.data["role"],
                     "recovery": bool(account.mobile or account.external_email)}
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return account


def _person(record: RegistryRecord, typed: dict | None) -> tuple[Person, bool]:
    """The person, reused when already known (a transfer keeps the AcademicID)."""
    person = identity.existing_person(record)
    if person is None:
        person = _issued_person(record, typed)
    reused = person.id is not None
    person.given_name_el, person.family_name_el = record.first_name_el, record.last_name_el
    person.given_name_en, person.family_name_en = record.first_name_en, record.last_name_en
    person.birth_date = record.birth_date or person.birth_date
    _identifier(person, record, typed or {})
    db.session().flush()
    record.person_id = person.id
    return person, reused


def _issued_person(record: RegistryRecord, typed: dict | None) -> Person:
    """A person with a new AcademicID, or the one already holding the ID the central issuer
    gave (someone returning from elsewhere); the issuer being down stops the activation."""
    try:
        academic_id = issuer.academic_id_for(record, typed)
    except issuer.IssuerUnavailable:
        raise KleidiError("LIFE-007") from None
    person = db.session().scalar(sa.select(Person).where(Person.academic_id == academic_id))
    if person is None:
        person = Person(academic_id=academic_id)
        db.session().add(person)
    return person


def _identifier(person: Person, record: RegistryRecord, typed: dict) -> None:
    if record.ssn and (record.ssn_country or "GR") == "GR":
        person.amka = record.ssn
    elif record.ssn:
        person.foreign_ssn, person.foreign_ssn_country = record.ssn, record.ssn_country
    elif typed.get("kind") == "amka":
        person.amka = typed["value"]
    elif typed.get("kind") == "foreign":
        person.foreign_ssn, person.foreign_ssn_country = typed["value"], typed["country"]
    elif typed.get("kind") == "ehic":
        person.ehic = typed["value"]


def _affiliation(person: Person, record: RegistryRecord) -> None:
    exists = db.session().scalar(sa.select(Affiliation.id).where(
        Affiliation.person_id == person.id, Affiliation.registry_record_id == record.id))
    if exists is None:
        db.session().add(Affiliation(
            person_id=person.id, role=record.role, department_id=record.department_id,
            registration_id=record.registration_id, source_registry=record.source_registry,
            registry_record_id=record.id, valid_from=clock.now().date(),
            valid_through=record.contract_end, status="active"))


def _account(person: Person, record: RegistryRecord, flow: flows.Flow,
             password: str) -> tuple[Account, bool]:
    """The person's one personal account: new, activated, or renamed after a transfer."""
    username = flow.data["username"]
    account = personal_account(person)
    transfer = account is not None and account.username != username
    if account is None and record.source_registry == "hr" and usernames.taken(username):
        username = usernames.staff_username(record.first_name_en or record.first_name_el,
                                            record.last_name_en or record.last_name_el)
    if account is None:
        account = Account(person_id=person.id, kind="personal", username=username)
        db.session().add(account)
    elif transfer:
        db.session().add(RetiredUsername(username=account.username, account_id=account.id))
        audit.record("account.username_changed", account=account, old=account.username,
                     new=username, reason="transfer")
        account.username = username
    account.domain = _domain(record.role)
    domains.refresh(account, actor="activation")  # a person with several roles: precedence
    account.status, account.activated_at = "active", clock.now()
    account.mobile = record.mobile_phone if flow.data.get("consent_mobile") else None
    account.external_email = record.ext_email if flow.data.get("consent_email") else None
    db.session().flush()
    accounts.set_password(account, password)
    return account, transfer


def _domain(role: str) -> str:
    domains = current_app.config["ROLE_DOMAINS"]
    return domains.get(role, domains["*"])


def is_transfer(person: Person, record: RegistryRecord) -> bool:
    """True when ``record`` moves the person to another registration at the level they
    already study at (another department: a new username); a new level (postgraduate,
    doctoral) or a first studentship of a staff member keeps their account as it is."""
    return db.session().scalar(sa.select(Affiliation.id).where(
        Affiliation.person_id == person.id, Affiliation.role == record.role,
        Affiliation.source_registry == record.source_registry,
        sa.or_(Affiliation.registry_record_id.is_(None),
               Affiliation.registry_record_id != record.id)).limit(1)) is not None


def personal_account(person: Person) -> Account | None:
    """The person's one personal account, if any."""
    return db.session().scalar(sa.select(Account).where(
        Account.person_id == person.id, Account.kind == "personal"))
