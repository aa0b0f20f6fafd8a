"""Every transition of an application, as the account office makes it and the applicant sees
it (status page and email, in the applicant's language), and every refusal with its code."""

import pytest
from application_support import (
    CONTRACTOR,
    EMAIL,
    FACULTY,
    apply,
    office,
    serial_and_secret,
    verify_contractor,
)
from conftest import csrf_token

from idp import db
from idp.errors import KleidiError
from idp.identity.models import Account


def _status(client, serial, secret, language="el"):
    headers = {"Accept-Language": language}
    page = client.get("/apply/status", headers=headers)
    return client.post("/apply/status", headers=headers, data={
        "csrf_token": csrf_token(page), "serial": serial, "secret": secret})


def _refused(app, code, action, serial, **options):
    with pytest.raises(KleidiError) as refused:
        office(app, action, serial, **options)
    assert refused.value.entry.code == code


def _applied(client, outbox, language="el", details=CONTRACTOR):
    apply(client, details, language=language)
    return serial_and_secret(outbox, details["email"])


@pytest.mark.parametrize("language, expected", [
    ("el", ["Υποβλήθηκε", "Δημιουργήθηκε ο λογαριασμός", "Η ταυτότητα επαληθεύτηκε",
            "Ο λογαριασμός παραδόθηκε"]),
    ("en", ["Submitted", "Account created", "Identity verified", "Account handed over"]),
])
def test_the_status_page_shows_each_step(app, client, outbox, language, expected):
    serial, secret = _applied(client, outbox, language)
    page = _status(client, serial, secret, language).get_data(as_text=True)
    assert expected[0] in page and expected[1] not in page
    office(app, "approve", serial)
    page = _status(client, serial, secret, language).get_data(as_text=True)
    assert expected[1] in page and "nalexiou" in page
    verify_contractor(app, serial)
    assert expected[2] in _status(client, serial, secret, language).get_data(as_text=True)
    office(app, "hand_over", serial)
    page = _status(client, serial, secret, language).get_data(as_text=True)
    assert all(step in page for step in expected)


@pytest.mark.parametrize("language, subjects", [
    ("el", ["Ελήφθη η αίτησή σας", "δημιουργήθηκε ο λογαριασμός σας",
            "επαληθεύτηκε η ταυτότητά σας", "επιλέξτε τον κωδικό σας"]),
    ("en", ["was received", "your account was created", "your identity was verified",
            "choose your password"]),
])
def test_every_transition_emails_the_applicant_in_their_language(app, client, outbox,
                                                                 language, subjects):
    serial, _ = _applied(client, outbox, language)
    office(app, "approve", serial)
    verify_contractor(app, serial)
    code = office(app, "hand_over", serial)
    messages = outbox.to(EMAIL)
    assert [m["channel"] for m in messages] == ["email"] * 4
    for message, subject in zip(messages, subjects, strict=True):
        assert subject in message["subject"] and serial in message["subject"]
    assert "nalexiou" in messages[1]["body"]
    assert ("Υπεύθυνη δήλωση" if language == "el" else "Solemn declaration") in messages[1]["body"]
    assert code in messages[3]["body"] and f"/apply/password?code={code}" in messages[3]["body"]


def test_approval_creates_a_pending_staff_account_in_the_staff_domain(app, client, outbox):
    serial, _ = _applied(client, outbox)
    office(app, "approve", serial)
    with app.app_context():
        account = db.session().query(Account).one()
        assert (account.username, account.domain, account.status) == (
            "nalexiou", "example.edu", "pending")
        assert account.password_hash is None and account.external_email == EMAIL
        roles = [a.role for a in account.person.affiliations]
        assert roles == ["contractor"]


@pytest.mark.parametrize("language, reason_text", [("el", "Λόγος: Δεν βρέθηκε σύμβαση."),
                                                   ("en", "Reason: Δεν βρέθηκε σύμβαση.")])
def test_a_rejection_says_why(app, client, outbox, language, reason_text):
    serial, secret = _applied(client, outbox, language)
    office(app, "reject", serial, reason="Δεν βρέθηκε σύμβαση.")
    page = _status(client, serial, secret, language).get_data(as_text=True)
    assert ("Απορρίφθηκε" if language == "el" else "Rejected") in page
    assert "Δεν βρέθηκε σύμβαση." in page
    assert reason_text in outbox.to(EMAIL)[-1]["body"]


def test_refusals_have_codes(app, client, outbox):
    serial, _ = _applied(client, outbox)
    _refused(app, "APPLY-012", "reject", serial, reason="  ")
    _refused(app, "APPLY-005", "verify", serial, document_kind="id_card",
             document_number="AK123456", evidence=[])
    _refused(app, "APPLY-004", "hand_over", serial)
    office(app, "approve", serial)
    _refused(app, "APPLY-003", "approve", serial)
    _refused(app, "APPLY-003", "reject", serial, reason="too late")
    _refused(app, "APPLY-004", "hand_over", serial)
    _refused(app, "APPLY-006", "verify", serial, document_kind="id_card",
             document_number="AK123456", evidence=["solemn_declaration"])
    _refused(app, "APPLY-007", "verify", serial, document_kind="id_card",
             document_number="AK999999", evidence=["solemn_declaration", "role_certificate"])
    _refused(app, "APPLY-013", "verify", serial, document_kind="library_card",
             document_number="1234", evidence=["solemn_declaration", "role_certificate"])
    _refused(app, "APPLY-011", "approve", "2026-999999")
    verify_contractor(app, serial)
    _refused(app, "APPLY-003", "verify", serial, document_kind="passport",
             document_number="P1234567", evidence=["solemn_declaration", "role_certificate"])


def test_a_faculty_member_needs_no_further_evidence(app, client, outbox):
    serial, _ = _applied(client, outbox, details=FACULTY)
    office(app, "approve", serial)
    office(app, "verify", serial, document_kind="passport", document_number="P1234567")
    assert office(app, "hand_over", serial)


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_status_page_says_nothing_without_both(app, client, outbox, language):
    serial, secret = _applied(client, outbox)
    wrong = _status(client, serial, "AAAA-BBBB-CCCC-DDDD", language)
    unknown = _status(client, "2026-999999", secret, language)
    for response in (wrong, unknown):
        text = response.get_data(as_text=True)
        assert response.status_code == 404 and "APPLY-001" in text
        assert serial not in text or response is wrong
        assert "Αλεξίου" not in text and "nalexiou" not in text
    title = "Καμία αίτηση δεν ταιριάζει" if language == "el" else "No application matches"
    assert title in wrong.get_data(as_text=True) and title in unknown.get_data(as_text=True)


@pytest.mark.settings(APPLICATION_STATUS_LOOKUPS_PER_SERIAL_HOUR=3)
def test_guessing_one_serials_secret_is_limited(app, client, outbox):
    serial, secret = _applied(client, outbox)
    for _ in range(3):
        assert _status(client, serial, "AAAA-BBBB-CCCC-DDDD").status_code == 404
    response = _status(client, serial, secret, "en")
    assert response.status_code == 429 and "APPLY-002" in response.get_data(as_text=True)


@pytest.mark.settings(APPLICATION_STATUS_LOOKUPS_PER_IP_HOUR=2)
def test_look_ups_from_one_address_are_limited(app, client, outbox):
    serial, secret = _applied(client, outbox)
    _status(client, "2026-000001", "AAAA-BBBB-CCCC-DDDD")
    _status(client, "2026-000002", "AAAA-BBBB-CCCC-DDDD")
    response = _status(client, serial, secret)
    assert response.status_code == 429 and "APPLY-002" in response.get_data(as_text=True)


def test_the_secret_may_be_typed_in_lower_case_without_dashes(client, outbox):
    serial, secret = _applied(client, outbox)
    response = _status(client, serial, secret.replace("-", " ").lower(), "en")
    assert response.status_code == 200 and "Submitted" in response.get_data(as_text=True)
