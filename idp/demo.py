"""A synthetic demo registry and a few active accounts, for trying Kleidi out.

Everything here is invented: names from a short list, AMKA and AFM numbers with valid
check digits but random bodies, mobiles in the Greek mobile range. The same seed gives the
same registry, so running the demo twice changes nothing but the demo passwords.
"""

from __future__ import annotations

import random
import secrets
from datetime import date

import sqlalchemy as sa
from stdnum import luhn
from stdnum.gr import vat

from idp import clock, db
from idp.identity import accounts, identifiers, registry, usernames
from idp.identity.models import Account, Affiliation, Person, RegistryRecord

GIVEN = [("Γιώργος", "Giorgos"), ("Μαρία", "Maria"), ("Νίκος", "Nikos"), ("Ελένη", "Eleni"),
         ("Δημήτρης", "Dimitris"), ("Κατερίνα", "Katerina"), ("Κώστας", "Kostas"),
         ("Σοφία", "Sofia"), ("Γιάννης", "Giannis"), ("Άννα", "Anna"), ("Παναγιώτης",
         "Panagiotis"), ("Χριστίνα", "Christina")]
FAMILY = [("Παπαδόπουλος", "Papadopoulos"), ("Νικολάου", "Nikolaou"), ("Γεωργίου", "Georgiou"),
          ("Οικονόμου", "Oikonomou"), ("Αλεξίου", "Alexiou"), ("Μακρής", "Makris"),
          ("Βασιλείου", "Vasileiou"), ("Δημητρίου", "Dimitriou"), ("Ιωάννου", "Ioannou"),
          ("Κωνσταντίνου", "Konstantinou")]
DEPARTMENTS = ("1512", "1521", "1530")
STAFF_ROLES = ("faculty", "faculty", "emeritus", "staff", "staff", "teaching_staff",
               "academic_fellow", "teaching_experience", "postdoc", "researcher",
               "contractor", "collaborator")
FOREIGN = (("CY", "CY123456789"), ("IT", "RSSMRA85T10A562S"), ("DE", "65180539W001"))


def amka_for(rng: random.Random, born: date) -> str:
    body = born.strftime("%d%m%y") + f"{rng.randrange(10000):04d}"
    return body + luhn.calc_check_digit(body)


def afm_for(rng: random.Random) -> str:
    body = f"{rng.randrange(1, 10**8):08d}"
    return body + vat.calc_check_digit(body)


def _person(rng: random.Random, index: int) -> dict:
    (given_el, given_en), (family_el, family_en) = rng.choice(GIVEN), rng.choice(FAMILY)
    born = date(rng.randrange(1970, 2007), rng.randrange(1, 13), rng.randrange(1, 29))
    return {
        "firstNameEl": given_el, "lastNameEl": family_el, "firstNameEn": given_en,
        "lastNameEn": family_en, "fatherFirstNameEl": rng.choice(GIVEN)[0],
        "birthDate": born.isoformat(),
        "mobilePhone": f"+3069{rng.randrange(10**8):08d}",
        "extEmail": f"{given_en.lower()}.{family_en.lower()}{index}@example.org",
    }


def student_rows(rng: random.Random, count: int = 60) -> list[dict]:
    rows = []
    for index in range(count):
        row = _person(rng, index)
        born = date.fromisoformat(row["birthDate"])
        row.update({
            "registrationID": f"{DEPARTMENTS[index % 3][-2:]}{index + 1:06d}",
            "departmentID": DEPARTMENTS[index % 3],
            "enrollmentStatus": "active", "inscriptionAcYear": "2025-2026",
            "enrollmentType": ("undergraduate", "undergraduate", "postgraduate",
                               "doctoral")[index % 4],
        })
        if index % 7 == 3:
            row["SSNCOUNTRY"], row["SSN"] = FOREIGN[index % 3]
        elif index % 5 != 4:
            row["SSN"], row["SSNCOUNTRY"] = amka_for(rng, born), "GR"
        if index % 3 == 0:
            row["TIN"], row["TINCOUNTRY"] = afm_for(rng), "GR"
        rows.append(row)
    return rows


def staff_rows(rng: random.Random) -> list[dict]:
    rows = []
    for index, role in enumerate(STAFF_ROLES):
        row = _person(rng, 100 + index)
        born = date.fromisoformat(row["birthDate"])
        row.update({
            "registrationID": f"HR{index + 1:05d}", "departmentID": DEPARTMENTS[index % 3],
            "role": role, "SSN": amka_for(rng, born), "SSNCOUNTRY": "GR",
            "TIN": afm_for(rng), "TINCOUNTRY": "GR",
        })
        if role in ("academic_fellow", "teaching_experience", "contractor", "postdoc"):
            row["contractStart"], row["contractEnd"] = "2025-09-01", "2027-08-31"
        rows.append(row)
    return rows


def load(seed: int = 2026) -> list[dict]:
    """Import the demo registries and (re)activate the demo accounts; their credentials."""
    rng = random.Random(seed)  # noqa: S311 - invented demo data, not secrets
    students, staff = student_rows(rng), staff_rows(rng)
    registry.import_rows("students", list(enumerate(students, start=1)), actor="demo")
    registry.import_rows("hr", list(enumerate(staff, start=1)), actor="demo")
    chosen = [("students", students[0]["registrationID"]),
              ("students", students[1]["registrationID"]),
              ("hr", staff[0]["registrationID"]), ("hr", staff[3]["registrationID"]),
              ("hr", staff[STAFF_ROLES.index("contractor")]["registrationID"])]
    credentials = [_activate(source, registration) for source, registration in chosen]
    db.session().commit()
    return credentials


def _activate(source: str, registration_id: str) -> dict:
    """Give the registry person an active account with a fresh random password."""
    session = db.session()
    record = session.scalar(sa.select(RegistryRecord).where(
        RegistryRecord.source_registry == source,
        RegistryRecord.registration_id == registration_id))
    account = _account_of(record) or _new_account(record)
    password = secrets.token_urlsafe(12)
    accounts.set_password(account, password, actor="demo")
    return {"username": account.username, "password": password, "role": record.role}


def _account_of(record: RegistryRecord) -> Account | None:
    if record.person_id is None:
        return None
    return db.session().scalar(sa.select(Account).where(
        Account.person_id == record.person_id, Account.kind == "personal"))


def _new_account(record: RegistryRecord) -> Account:
    from flask import current_app

    session = db.session()
    person = Person(
        academic_id=identifiers.new_academic_id(), given_name_el=record.first_name_el,
        family_name_el=record.last_name_el, given_name_en=record.first_name_en,
        family_name_en=record.last_name_en, birth_date=record.birth_date,
        amka=record.ssn if record.ssn_country == "GR" else None,
    )
    session.add(person)
    session.flush()
    record.person_id = person.id
    session.add(Affiliation(
        person_id=person.id, role=record.role, department_id=record.department_id,
        registration_id=record.registration_id, source_registry=record.source_registry,
        registry_record_id=record.id, valid_from=record.contract_start,
        valid_through=record.contract_end,
    ))
    is_student = record.source_registry == "students"
    if is_student:
        username = usernames.student_username(record.department_id, record.registration_id)
    else:
        username = usernames.staff_username(record.first_name_en, record.last_name_en)
    domains = current_app.config["ROLE_DOMAINS"]
    account = Account(
        person_id=person.id, username=username, status="active",
        domain=domains.get(record.role, domains["*"]),
        mobile=record.mobile_phone if is_student else None, activated_at=clock.now(),
        external_email=record.ext_email,
    )
    session.add(account)
    session.flush()
    return account


# -- Staff applications: an application waiting for the account office -------------------
DEMO_APPLICANT = {
    "role": "collaborator", "given_name_el": "Ιωάννα", "family_name_el": "Βασιλείου",
    "given_name_en": "Ioanna", "family_name_en": "Vasileiou", "father_name": "Νίκος",
    "unit": "Εργαστήριο Ψηφιακών Βιβλιοθηκών", "email": "ioanna.vasileiou@example.org",
    "mobile": "+306955501234", "amka": None, "document_kind": "passport",
    "document_number": "AB1234567", "contract_start": date(2026, 1, 1),
    "contract_end": date(2027, 12, 31), "supervisor": "Γιώργος Παπαδόπουλος",
}


def pending_application() -> dict:
    """The demo's application waiting for the office, with a fresh status secret each run
    (the office then approves, verifies and hands it over: see docs/staff.md)."""
    from idp.identity.applications import codewords, submission
    from idp.identity.applications.models import Application

    found = db.session().scalar(sa.select(Application).where(
        Application.email == DEMO_APPLICANT["email"]).order_by(Application.id.desc()).limit(1))
    if found is None:
        found, secret = submission.submit(dict(DEMO_APPLICANT), language="el", ip=None)
    else:
        secret = codewords.new(4)
        found.secret_digest = codewords.digest(submission.SECRET_PURPOSE, secret)
        db.session().commit()
    return {"serial": found.serial, "secret": secret, "status": found.status}
