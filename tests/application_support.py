"""What the tests of staff applications share: a valid application, submitting it through
the page, and reading the serial, secret and set-password code from the applicant's email."""

from __future__ import annotations

import re

from conftest import csrf_token

EMAIL = "nikos.contractor@example.org"
CONTRACTOR = {
    "role": "contractor", "given_name_el": "Νίκος", "family_name_el": "Αλεξίου",
    "given_name_en": "Nikos", "family_name_en": "Alexiou", "father_name": "Γιώργος",
    "unit": "Εργαστήριο Δικτύων", "email": EMAIL, "mobile": "6912345670",
    "amka": "", "document_kind": "id_card", "document_number": "AK 123456",
    "contract_start": "2026-01-01", "contract_end": "2027-12-31",
    "supervisor": "Καθ. Μαρία Οικονόμου",
}
FACULTY = {**CONTRACTOR, "role": "faculty", "given_name_el": "Ελένη",
           "family_name_el": "Γεωργίου", "given_name_en": "Eleni", "family_name_en": "Georgiou",
           "father_name": "Κώστας", "email": "eleni.g@example.org", "contract_start": "",
           "contract_end": "", "supervisor": "", "document_number": "AB 654321"}
SERIAL = re.compile(r"\d{4}-\d{6}")
SECRET = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}(?!-)")
CODE = re.compile(r"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){4}")


def apply(client, details=CONTRACTOR, language="el", **changes):
    """Submit an application through /apply; the response to the form post."""
    headers = {"Accept-Language": language}
    page = client.get("/apply/", headers=headers)
    data = {**details, **changes, "csrf_token": csrf_token(page)}
    return client.post("/apply/", data=data, headers=headers)


def serial_and_secret(outbox, email=EMAIL) -> tuple[str, str]:
    """The serial and secret of the applicant's first email."""
    body = outbox.to(email)[0]["body"]
    return SERIAL.search(body).group(0), SECRET.search(body).group(0)


def handover_code(outbox, email=EMAIL) -> str:
    """The set-password code of the applicant's latest hand-over email."""
    body = [m for m in outbox.to(email) if CODE.search(m["body"])][-1]["body"]
    return CODE.search(body).group(0)


def office(app, action, serial, **options):
    """Run an office action (a function of idp.identity.applications) and commit."""
    from idp import db
    from idp.identity.applications import handover
    from idp.identity.applications import office as desk

    functions = {"approve": desk.approve, "reject": desk.reject, "verify": desk.verify,
                 "hand_over": handover.hand_over}
    with app.test_request_context():
        result = functions[action](serial, actor="office:test", **options)
        db.session().commit()
        return result


def verify_contractor(app, serial):
    return office(app, "verify", serial, document_kind="id_card", document_number="AK123456",
                  evidence=["solemn_declaration", "role_certificate"])
