"""Applying for a staff account from the login page: the form, its checks, the serial number
per year and the status secret by email, in Greek and in English."""

import pytest
from application_support import CONTRACTOR, EMAIL, FACULTY, SECRET, SERIAL, apply, serial_and_secret

from idp import db
from idp.identity.applications.models import Application


def test_the_login_page_links_to_the_application(client):
    el = client.get("/login", headers={"Accept-Language": "el"}).get_data(as_text=True)
    en = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/apply/"' in el and "Προσωπικό και μέλη ΔΕΠ: αίτηση για λογαριασμό" in el
    assert "Staff and faculty: apply for an account" in en


def test_every_staff_role_is_offered_and_eep_and_407_are_two(client):
    page = client.get("/apply/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for label in ("Faculty member", "Permanent staff", "Teaching staff",
                  "Lecturer under P.D. 407/80", "Academic fellow", "Contractor",
                  "Scientific collaborator", "Postdoctoral researcher"):
        assert label in page
    assert 'value="teaching_staff"' in page and 'value="lecturer_407"' in page
    assert 'value="undergraduate"' not in page


@pytest.mark.parametrize("language, heading, sent", [
    ("el", "Η αίτησή σας υποβλήθηκε", "Ελήφθη η αίτησή σας"),
    ("en", "Your application was submitted", "Your application"),
])
def test_a_contractor_gets_a_serial_and_a_secret_by_email(app, client, outbox, language,
                                                          heading, sent):
    response = apply(client, language=language)
    assert response.status_code == 303 and response.location.endswith("/apply/submitted")
    page = client.get("/apply/submitted", headers={"Accept-Language": language})
    text = page.get_data(as_text=True)
    serial = SERIAL.search(text).group(0)
    assert heading in text and serial.startswith(str(__import__("datetime").date.today().year))
    assert not SECRET.search(text)  # the secret goes only to the email
    [message] = outbox.to(EMAIL)
    assert sent in message["subject"] and serial in message["body"]
    assert SECRET.search(message["body"])
    with app.app_context():
        stored = db.session().query(Application).one()
        assert stored.role == "contractor" and stored.mobile == "+306912345670"
        assert stored.language == language and SECRET.search(message["body"]).group(0) \
            not in stored.secret_digest


def test_serial_numbers_count_up_within_the_year(client, outbox):
    apply(client)
    apply(client, FACULTY)
    first, _ = serial_and_secret(outbox)
    second, _ = serial_and_secret(outbox, FACULTY["email"])
    year, number = first.split("-")
    assert second == f"{year}-{int(number) + 1:06d}"


@pytest.mark.parametrize("language, changes, message", [
    ("en", {"given_name_el": "Nikos"}, "Write it in Greek letters."),
    ("el", {"given_name_el": "Nikos"}, "Γράψτε το με ελληνικά γράμματα."),
    ("en", {"family_name_en": "Αλεξίου"}, "Write it in Latin letters (A-Z), as in your passport."),
    ("en", {"email": "n.alexiou@example.edu"},
     "Give a personal email outside the institution"),
    ("en", {"mobile": "2101234567"}, "This is not a valid mobile number."),
    ("el", {"mobile": "2101234567"}, "Δεν είναι έγκυρος αριθμός κινητού."),
    ("en", {"amka": "12345678901"}, "This is not a valid AMKA"),
    ("en", {"supervisor": ""}, "Contractors and collaborators give this."),
    ("el", {"contract_end": "2025-01-01"}, "Η σύμβαση πρέπει να λήγει μετά την έναρξή της."),
])
def test_the_form_refuses_what_is_not_valid(client, outbox, language, changes, message):
    response = apply(client, language=language, **changes)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert outbox.messages == []


def test_a_faculty_member_gives_no_contract(client, outbox):
    assert apply(client, FACULTY).status_code == 303
    assert SERIAL.search(outbox.to(FACULTY["email"])[0]["body"])


def test_without_csrf_token_nothing_is_submitted(client, outbox):
    response = client.post("/apply/", data=CONTRACTOR, headers={"Accept-Language": "en"})
    assert response.status_code == 400 and "GEN-003" in response.get_data(as_text=True)
    assert outbox.messages == []


@pytest.mark.settings(APPLICATIONS_PER_IP_HOUR=1)
def test_applications_from_one_address_are_limited(client, outbox):
    apply(client)
    response = apply(client, FACULTY, language="en")
    assert response.status_code == 429 and "APPLY-014" in response.get_data(as_text=True)
    assert outbox.to(FACULTY["email"]) == []


def test_each_year_counts_from_one(app):
    from idp.identity.applications.submission import next_serial

    with app.app_context():
        assert [next_serial(2030), next_serial(2030), next_serial(2031)] == [
            "2030-000001", "2030-000002", "2031-000001"]
        db.session().commit()
