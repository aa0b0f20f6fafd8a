"""A real browser (headless Chromium, a 360 px phone) applies for a staff account and follows
it on the status page, in Greek and in English: each state photographed into
``test-artifacts/``, without sideways scrolling or axe-core violations."""

import json

import pytest
from application_support import EMAIL, serial_and_secret

TEXTS = {
    "el": {"link": "Προσωπικό και μέλη ΔΕΠ: αίτηση για λογαριασμό", "role": "Συμβασιούχος",
           "given_el": "Όνομα (στα ελληνικά)", "family_el": "Επώνυμο (στα ελληνικά)",
           "given_en": "Όνομα (με λατινικούς χαρακτήρες)",
           "family_en": "Επώνυμο (με λατινικούς χαρακτήρες)",
           "father": "Όνομα πατέρα (στα ελληνικά)", "unit": "Τμήμα ή μονάδα",
           "email": "Το προσωπικό σας email", "mobile": "Κινητό τηλέφωνο",
           "number": "Αριθμός εγγράφου", "start": "Έναρξη σύμβασης", "end": "Λήξη σύμβασης",
           "supervisor": "Επιστημονικός υπεύθυνος (μέλος ΔΕΠ)",
           "submit": "Υποβολή της αίτησης", "fix": "Οι συμβασιούχοι και οι συνεργάτες",
           "submitted": "Η αίτησή σας υποβλήθηκε", "follow": "Παρακολούθηση της αίτησης",
           "serial": "Αύξων αριθμός", "secret": "Μυστικό", "show": "Εμφάνιση κατάστασης",
           "status": "Υποβλήθηκε", "created": "Δημιουργήθηκε ο λογαριασμός"},
    "en": {"link": "Staff and faculty: apply for an account", "role": "Contractor",
           "given_el": "Given name (in Greek)", "family_el": "Family name (in Greek)",
           "given_en": "Given name (in Latin letters)",
           "family_en": "Family name (in Latin letters)",
           "father": "Father's given name (in Greek)", "unit": "Department or unit",
           "email": "Your personal email", "mobile": "Mobile phone",
           "number": "Document number", "start": "Contract starts", "end": "Contract ends",
           "supervisor": "Supervising faculty member", "submit": "Submit the application",
           "fix": "Contractors and collaborators give this.",
           "submitted": "Your application was submitted", "follow": "Follow the application",
           "serial": "Serial number", "secret": "Secret", "show": "Show the status",
           "status": "Submitted", "created": "Account created"},
}


@pytest.mark.parametrize("language", ["el", "en"])
def test_apply_and_follow_the_application_on_a_phone(app, phone, live_app, outbox, csp,
                                                     language):
    text = TEXTS[language]
    page = csp.watch(phone(language))
    page.goto(f"{live_app}/login")
    page.get_by_role("link", name=text["link"]).click()
    page.wait_for_load_state()
    phone.check(page, "apply")
    page.get_by_label(text["role"], exact=True).check()
    page.get_by_label(text["given_el"], exact=True).fill("Νίκος")
    page.get_by_label(text["family_el"], exact=True).fill("Αλεξίου")
    page.get_by_label(text["given_en"], exact=True).fill("Nikos")
    page.get_by_label(text["family_en"], exact=True).fill("Alexiou")
    page.get_by_label(text["father"], exact=True).fill("Γιώργος")
    page.get_by_label(text["unit"], exact=True).fill("Εργαστήριο Δικτύων")
    page.get_by_label(text["email"], exact=True).fill(EMAIL)
    page.get_by_label(text["mobile"], exact=True).fill("691 234 5670")
    page.get_by_label(text["number"], exact=True).fill("AK 123456")
    page.get_by_role("button", name=text["submit"]).click()
    page.wait_for_load_state()
    assert text["fix"] in page.content()  # a contractor gives the contract period
    phone.check(page, "apply-errors")
    page.get_by_label(text["start"], exact=True).fill("2026-01-01")
    page.get_by_label(text["end"], exact=True).fill("2027-12-31")
    page.get_by_label(text["supervisor"], exact=True).fill("Μαρία Οικονόμου")
    page.get_by_role("button", name=text["submit"]).click()
    page.wait_for_load_state()
    assert text["submitted"] in page.content()
    serial, secret = serial_and_secret(outbox)
    assert page.locator(".serial").inner_text() == serial
    phone.check(page, "submitted")
    page.get_by_role("link", name=text["follow"]).click()
    page.wait_for_load_state()
    assert page.get_by_label(text["serial"], exact=True).input_value() == serial
    page.get_by_label(text["secret"], exact=True).fill(secret)
    phone.check(page, "status-form")
    page.get_by_role("button", name=text["show"]).click()
    page.wait_for_load_state()
    assert page.locator(".status").inner_text() == text["status"]
    phone.check(page, "status-submitted")
    result = app.test_cli_runner().invoke(args=["applications", "approve", serial, "--json"])
    assert json.loads(result.output)["status"] == "account_created"
    page.go_back()
    page.get_by_label(text["secret"], exact=True).fill(secret)
    page.get_by_role("button", name=text["show"]).click()
    page.wait_for_load_state()
    assert page.locator(".status").inner_text() == text["created"]
    assert "nalexiou" in page.content()
    phone.check(page, "status-account-created")
