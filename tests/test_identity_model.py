"""People, their AcademicID and their accounts, as the database enforces them."""

import re

import pytest
import sqlalchemy as sa

from idp import db
from idp.audit import AuditEvent
from idp.identity import identifiers
from idp.identity.models import Account, Person


def _person(**fields) -> Person:
    person = Person(academic_id=identifiers.new_academic_id(), **fields)
    db.session().add(person)
    db.session().flush()
    return person


def _account(person, username) -> Account:
    account = Account(person_id=person.id, username=username, domain="example.edu")
    db.session().add(account)
    db.session().flush()
    return account


def test_academic_id_is_opaque_alphanumeric_and_fits_eduperson_unique_id(ctx):
    values = {identifiers.new_academic_id() for _ in range(2000)}
    assert len(values) == 2000
    for value in values:
        assert re.fullmatch(r"[a-z0-9]{32}", value)  # one case: see test_identifiers_case
        assert identifiers.UNIQUE_PART.fullmatch(value)


def test_academic_id_is_unique_in_the_database(ctx):
    first = _person()
    db.session().add(Person(academic_id=first.academic_id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session().flush()


def test_only_one_personal_account_per_person(ctx):
    person = _person()
    _account(person, "first")
    db.session().commit()
    db.session().add(Account(person_id=person.id, username="second", domain="example.edu",
                             kind="personal"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session().commit()


def test_usernames_are_unique(ctx):
    _account(_person(), "taken")
    with pytest.raises(sa.exc.IntegrityError):
        _account(_person(), "taken")


def test_account_status_is_constrained(ctx):
    person = _person()
    db.session().add(Account(person_id=person.id, username="x", domain="example.edu",
                             status="deleted"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session().flush()


def test_amka_belongs_to_one_person(ctx):
    _person(amka="17050112345")
    with pytest.raises(sa.exc.IntegrityError):
        _person(amka="17050112345")


def test_audit_events_are_append_only(ctx):
    event = AuditEvent(event="test", detail={})
    db.session().add(event)
    db.session().commit()
    event.event = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session().commit()
    db.session().rollback()
    if db.engine().dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError), db.engine().begin() as connection:
            connection.execute(sa.text("DELETE FROM audit_event"))


def test_pairwise_values_are_stable_distinct_and_well_formed(ctx):
    academic_id = identifiers.new_academic_id()
    one = identifiers.pairwise_unique(academic_id, "https://sp-one.example.org")
    again = identifiers.pairwise_unique(academic_id, "https://sp-one.example.org")
    two = identifiers.pairwise_unique(academic_id, "https://sp-two.example.org")
    other = identifiers.pairwise_unique(identifiers.new_academic_id(), "https://sp-one.example.org")
    assert one == again and one != two and one != other
    assert identifiers.UNIQUE_PART.fullmatch(one) and academic_id not in one
