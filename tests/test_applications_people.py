"""Approving links the right person: the HR registry's record (the office sees the match or
the mismatch), the same AMKA (the AcademicID is reused), an office decision to link; one
personal account per person, its domain by precedence; staff usernames never reused."""

from datetime import date

import pytest
import sqlalchemy as sa
from application_support import CONTRACTOR, FACULTY, apply, office, serial_and_secret
from sqlalchemy.exc import IntegrityError

from idp import db
from idp.errors import KleidiError
from idp.identity.applications import office as desk
from idp.identity.applications import summary
from idp.identity.models import Account, Affiliation, Person, RegistryRecord
from idp.identity.usernames import RetiredUsername

AMKA = "17050112345"  # a valid AMKA (Luhn), born 17/05/01


def _hr_record(app, **fields):
    values = {"first_name_el": "Ελένη", "last_name_el": "Γεωργίου", "first_name_en": "Eleni",
              "last_name_en": "Georgiou", "father_first_name_el": "Κώστας",
              "role": "faculty", "ext_email": "eleni.g@example.org", **fields}
    with app.app_context():
        record = RegistryRecord(source_registry="hr", registration_id="HR00077", **values)
        db.session().add(record)
        db.session().commit()
        return record.id


def _show(app, serial):
    with app.test_request_context():
        return summary.describe(desk.find(serial))


def _applied(client, outbox, details=FACULTY, **changes):
    apply(client, details, **changes)
    return serial_and_secret(outbox, details["email"])[0]


def test_the_office_sees_the_hr_match(app, client, outbox):
    _hr_record(app)
    serial = _applied(client, outbox)
    assert _show(app, serial)["hr"] == {"record": "HR00077", "differences": []}


def test_the_office_sees_the_mismatch(app, client, outbox):
    _hr_record(app, role="staff", ext_email="other@example.org")
    serial = _applied(client, outbox)
    assert _show(app, serial)["hr"] == {"record": "HR00077", "differences": ["role", "email"]}


def test_an_unknown_applicant_has_no_hr_record(app, client, outbox):
    serial = _applied(client, outbox, CONTRACTOR)
    assert _show(app, serial)["hr"] == {"record": None, "differences": []}


def test_the_same_amka_reuses_the_person_and_their_academic_id(app, client, outbox,
                                                              make_account):
    username, _ = make_account(role="undergraduate", domain="upnet.example.edu")
    with app.app_context():
        person = db.session().scalar(sa.select(Person))
        person.amka, academic_id = AMKA, person.academic_id
        db.session().commit()
    serial = _applied(client, outbox, CONTRACTOR, amka=AMKA)
    office(app, "approve", serial)
    with app.app_context():
        accounts = db.session().scalars(sa.select(Account)).all()
        assert [a.username for a in accounts] == [username]  # one personal account
        assert accounts[0].person.academic_id == academic_id
        roles = sorted(a.role for a in db.session().scalars(sa.select(Affiliation)))
        assert roles == ["contractor", "undergraduate"]
        assert accounts[0].domain == "example.edu"  # staff precedes students (DOMAIN_PRECEDENCE)
    assert "Ήδη έχετε τον λογαριασμό" in outbox.to(CONTRACTOR["email"])[-1]["body"]


@pytest.mark.settings(DOMAIN_PRECEDENCE=["upnet.example.edu", "example.edu"])
def test_the_domain_follows_the_configured_precedence(app, client, outbox, make_account):
    make_account(role="undergraduate")
    with app.app_context():
        db.session().scalar(sa.select(Person)).amka = AMKA
        db.session().commit()
    office(app, "approve", _applied(client, outbox, CONTRACTOR, amka=AMKA))
    with app.app_context():
        assert db.session().scalar(sa.select(Account)).domain == "upnet.example.edu"


def test_the_hr_record_leads_to_the_person_it_belongs_to(app, client, outbox, make_account):
    username, _ = make_account(role="staff")
    with app.app_context():
        person_id = db.session().scalar(sa.select(Person.id))
    record_id = _hr_record(app, person_id=person_id)
    serial = _applied(client, outbox)
    office(app, "approve", serial)
    with app.app_context():
        assert db.session().scalars(sa.select(Account.username)).all() == [username]
        affiliation = db.session().scalar(sa.select(Affiliation).where(
            Affiliation.registry_record_id == record_id))
        assert affiliation.role == "faculty" and affiliation.person_id == person_id


def test_the_office_may_link_an_existing_account(app, client, outbox, make_account):
    username, _ = make_account(role="postdoc")
    serial = _applied(client, outbox, CONTRACTOR)
    office(app, "approve", serial, link=username, note="same person, new contract")
    with app.app_context():
        assert db.session().scalars(sa.select(Account.username)).all() == [username]
        from idp.audit import AuditEvent

        linked = db.session().scalar(sa.select(AuditEvent).where(
            AuditEvent.event == "application.linked"))
        assert linked.actor == "office:test" and linked.detail["serial"] == serial


def test_a_second_personal_account_is_refused(app, client, outbox, make_account):
    username, _ = make_account(role="postdoc")
    other, _ = make_account(role="staff")
    with app.app_context():
        db.session().scalars(sa.select(Person)).first().amka = AMKA
        db.session().commit()
    serial = _applied(client, outbox, CONTRACTOR, amka=AMKA)
    with pytest.raises(KleidiError) as refused:
        office(app, "approve", serial, link=other)
    assert refused.value.entry.code == "APPLY-008"
    with pytest.raises(KleidiError) as unknown:
        office(app, "approve", serial, link="nobody")
    assert unknown.value.entry.code == "APPLY-016"
    with app.app_context():
        person_id = db.session().scalar(sa.select(Account.person_id).where(
            Account.username == username))
        db.session().add(Account(person_id=person_id, username="second", domain="example.edu",
                                 kind="personal"))
        with pytest.raises(IntegrityError):
            db.session().commit()


def test_staff_usernames_are_never_reused(app, client, outbox, make_account):
    make_account("nalexiou", status="disabled")
    with app.app_context():
        account_id = db.session().scalar(sa.select(Account.id))
        db.session().add(RetiredUsername(username="nalexiou2", account_id=account_id))
        db.session().commit()
    serial = _applied(client, outbox, CONTRACTOR)
    office(app, "approve", serial)
    assert _show(app, serial)["username"] == "nalexiou3"


@pytest.mark.settings(STAFF_USERNAME_PATTERN="{family}.{given}")
def test_the_staff_username_pattern_is_configuration(app, client, outbox):
    serial = _applied(client, outbox, CONTRACTOR)
    office(app, "approve", serial)
    assert _show(app, serial)["eppn"] == "alexiou.nikos@example.edu"


def test_an_ended_contract_period_is_the_affiliations(app, client, outbox):
    serial = _applied(client, outbox, CONTRACTOR)
    office(app, "approve", serial)
    with app.app_context():
        affiliation = db.session().scalar(sa.select(Affiliation))
        assert (affiliation.valid_from, affiliation.valid_through) == (
            date(2026, 1, 1), date(2027, 12, 31))
        assert affiliation.source_registry == "application"


def test_a_linked_account_with_a_password_completes_without_a_code(app, client, outbox,
                                                                   make_account):
    username, _ = make_account(role="postdoc")
    serial = _applied(client, outbox, CONTRACTOR)
    office(app, "approve", serial, link=username)
    office(app, "verify", serial, document_kind="id_card", document_number="AK123456",
           evidence=["solemn_declaration", "role_certificate"])
    assert office(app, "hand_over", serial) is None
    assert _show(app, serial)["status"] == "handed_over"
    last = outbox.to(CONTRACTOR["email"])[-1]["body"]
    assert f"Συνεχίστε να συνδέεστε με τον λογαριασμό σας {username}" in last
    with pytest.raises(KleidiError) as again:
        office(app, "hand_over", serial)
    assert again.value.entry.code == "APPLY-015"
