"""Identifiers of one case: the AcademicID and everything derived from it are lower case, and
the database refuses two AcademicIDs that differ only in case."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from saml_sp import sso

from idp import db
from idp.identity import identifiers
from idp.identity.models import Person

pytest_plugins = ("saml_fixtures",)

IDENTIFIERS = ["subject_id", "eduperson_unique_id", "schgr_ac_person_id", "pairwise_id"]


def test_an_sp_receives_every_identifier_in_lower_case(make_sp, client, csrf, make_account,
                                                       login):
    username, password = make_account()
    login(client, username, password)
    auth = sso(client, make_sp("ids.example.org", release=IDENTIFIERS), csrf)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    values = [auth.get_nameid(), *(v for vs in auth.get_attributes().values() for v in vs)]
    assert len(values) == 5
    assert all(value == value.lower() for value in values), values


def test_two_people_whose_academic_ids_differ_only_in_case_cannot_exist(ctx):
    first = Person(academic_id=identifiers.new_academic_id())
    db.session().add(first)
    db.session().commit()
    with pytest.raises(sa.exc.IntegrityError):  # past the model, straight to the database
        db.session().execute(sa.text(
            "INSERT INTO person (academic_id, given_name_el, family_name_el, given_name_en, "
            "family_name_en, created_at) VALUES (:id, '', '', '', '', :now)"),
            {"id": first.academic_id.upper(), "now": datetime.now(UTC)})
    db.session().rollback()


def test_an_academic_id_given_in_another_case_is_stored_in_lower_case(ctx):
    person = Person(academic_id="FromTheCentralService0001")
    db.session().add(person)
    db.session().commit()
    assert db.session().scalar(sa.select(Person.academic_id).where(Person.id == person.id)) \
        == "fromthecentralservice0001"
