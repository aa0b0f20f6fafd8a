"""What the lifecycle tests share: a person known to the registry with an active account,
feed rows, and the days the lifecycle acts on."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import sqlalchemy as sa

from idp import clock, db
from idp.identity import accounts, identifiers, registry
from idp.identity.models import Account, Affiliation, Person, RegistryRecord

DAY = 24 * 3600


def enrolled(app, *, registration="00012345", department="1512", source="students",
             role="undergraduate", username=None, contract_end=None, email="maria@example.org",
             mobile=None, amka=None, activated_days_ago=0):
    """A person with a registry row, its affiliation and an active account: (username,
    password)."""
    username = username or f"u{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    with app.app_context():
        session = db.session()
        person = Person(academic_id=identifiers.new_academic_id(), given_name_el="Μαρία",
                        family_name_el="Παπαδοπούλου", given_name_en="Maria",
                        family_name_en="Papadopoulou", amka=amka)
        session.add(person)
        session.flush()
        record = RegistryRecord(
            source_registry=source, registration_id=registration, department_id=department,
            first_name_el="Μαρία", last_name_el="Παπαδοπούλου", first_name_en="Maria",
            last_name_en="Papadopoulou", role=role, person_id=person.id, ssn=amka,
            enrollment_status="active", contract_end=contract_end, mobile_phone=mobile,
            enrollment_type=role if source == "students" else None)
        session.add(record)
        session.flush()
        activated = clock.now() - timedelta(days=activated_days_ago)
        session.add(Affiliation(person_id=person.id, role=role, department_id=department,
                                registration_id=registration, source_registry=source,
                                registry_record_id=record.id, valid_from=activated.date(),
                                valid_through=contract_end, status="active"))
        account = Account(person_id=person.id, username=username, domain="example.edu",
                          status="active", activated_at=activated, external_email=email)
        session.add(account)
        session.flush()
        accounts.set_password(account, password, actor="test")
        session.commit()
    return username, password


def student_row(registration="00012345", department="1512", status="active", **fields):
    row = {"registrationID": registration, "departmentID": department, "firstNameEl": "Μαρία",
           "lastNameEl": "Παπαδοπούλου", "firstNameEn": "Maria", "lastNameEn": "Papadopoulou",
           "enrollmentType": "undergraduate", "enrollmentStatus": status}
    return {**row, **fields}


def hr_row(registration, role="staff", status="active", **fields):
    row = {"registrationID": registration, "firstNameEl": "Γιώργος", "lastNameEl": "Αλεξίου",
           "role": role, "enrollmentStatus": status}
    return {**row, **fields}


def import_feed(app, source, rows, **options):
    with app.app_context():
        return registry.import_rows(source, list(enumerate(rows, start=1)), actor="test",
                                    **options)


def account_of(app, username):
    """(status, alumni_since, expires_at) of the account, read fresh."""
    with app.app_context():
        account = db.session().scalar(sa.select(Account).where(Account.username == username))
        return account.status, account.alumni_since, account.expires_at


def today(app) -> date:
    with app.app_context():
        return clock.now().date()
