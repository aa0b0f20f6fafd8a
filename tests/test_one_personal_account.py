"""One personal account per person: a student who becomes a postgraduate keeps the account and
username (a new affiliation is added); a staff member who is also a student keeps one account
with both affiliations, its domain by the configuration's precedence."""

from datetime import date

import sqlalchemy as sa
from test_activation_flow import activate, amka_for

from idp import db
from idp.identity import registry
from idp.identity.models import Account, Affiliation, Person

AMKA = amka_for(date(2004, 3, 9))


def _person_with_account(app, username, role, domain, source="students"):
    with app.app_context():
        person = Person(academic_id=f"known{username}", amka=AMKA)
        db.session().add(person)
        db.session().flush()
        db.session().add(Affiliation(person_id=person.id, role=role, source_registry=source,
                                     registration_id="00000007", department_id="1521",
                                     status="active"))
        db.session().add(Account(person_id=person.id, username=username, status="active",
                                 domain=domain))
        db.session().commit()


def _import(app, registry_name, **row):
    base = {"registrationID": "00099999", "departmentID": "1530", "firstNameEl": "Ελένη",
            "lastNameEl": "Νικολάου", "SSN": AMKA, "SSNCOUNTRY": "GR",
            "mobilePhone": "+306912345678", **row}
    with app.app_context():
        report = registry.import_rows(registry_name, [(1, base)], actor="test")
        assert report.errors == []


def _account(app):
    with app.app_context():
        [account] = db.session().scalars(sa.select(Account)).all()
        roles = sorted(a.role for a in db.session().scalars(sa.select(Affiliation).where(
            Affiliation.status == "active")))
        return account.username, account.domain, roles


def test_a_postgraduate_keeps_the_undergraduate_account(app, client, outbox):
    _person_with_account(app, "152100000007", "undergraduate", "upnet.example.edu")
    _import(app, "students", enrollmentType="postgraduate", enrollmentStatus="active")
    assert _account(app) == ("152100000007", "upnet.example.edu",
                             ["postgraduate", "undergraduate"])
    _flow, refused = activate(client, outbox, "00099999")
    assert refused.status_code == 409 and "ACT-003" in refused.get_data(as_text=True)
    assert _account(app)[0] == "152100000007"  # not renamed to 153000099999


def test_a_staff_member_who_studies_keeps_one_staff_account(app, client, outbox):
    _person_with_account(app, "nalexiou", "staff", "example.edu", source="hr")
    _import(app, "students", enrollmentType="doctoral", enrollmentStatus="active")
    assert _account(app) == ("nalexiou", "example.edu", ["doctoral", "staff"])
    _flow, refused = activate(client, outbox, "00099999")
    assert refused.status_code == 409 and "ACT-003" in refused.get_data(as_text=True)


def test_a_student_who_joins_the_staff_moves_to_the_staff_domain(app):
    _person_with_account(app, "152100000007", "undergraduate", "upnet.example.edu")
    _import(app, "hr", role="staff")
    assert _account(app) == ("152100000007", "example.edu", ["staff", "undergraduate"])
