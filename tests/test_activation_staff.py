"""Self-activation from the HR registry: faculty and staff with a mobile or email on record
activate by PIN exactly like students; the first step offers both; those without a usable
contact are told to apply for an account."""

from datetime import date

import pytest
import sqlalchemy as sa
from test_activation_flow import PASSWORD, enter_pin, finish, identify, submit

from idp import db
from idp.identity.models import Account, RegistryRecord

MOBILE = "+306944000111"


@pytest.fixture
def hr_record(app):
    def make(registration="HR00042", **fields):
        values = {"first_name_el": "Δημήτρης", "last_name_el": "Μακρής",
                  "first_name_en": "Dimitris", "last_name_en": "Makris", "role": "faculty",
                  "birth_date": date(1975, 4, 2), "ssn": "02047512344", "ssn_country": "GR",
                  "mobile_phone": MOBILE, "ext_email": "d.makris@example.org", **fields}
        with app.app_context():
            db.session().add(RegistryRecord(source_registry="hr", registration_id=registration,
                                            department_id="1512", **values))
            db.session().commit()
        return registration
    return make


def _start_staff(client):
    response = submit(client, "/activate/", {"role": "staff"})
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[0]


@pytest.mark.parametrize("language, choice, apply_text", [
    ("el", "Είμαι μέλος ΔΕΠ ή του προσωπικού (στο μητρώο προσωπικού)",
     "κάντε αίτηση για λογαριασμό"),
    ("en", "I am faculty or staff (in the HR registry)", "apply for an account"),
])
def test_the_first_step_offers_staff_and_points_to_the_application(client, language, choice,
                                                                   apply_text):
    page = client.get("/activate/", headers={"Accept-Language": language})
    text = page.get_data(as_text=True)
    assert choice in text and 'value="staff"' in text and 'value="student"' in text
    assert apply_text in text and 'href="/apply/"' in text


def test_a_faculty_member_activates_by_pin_and_gets_a_staff_account(app, client, outbox,
                                                                   hr_record):
    registration = hr_record()
    flow = _start_staff(client)
    notice = client.get(f"{flow}/identify", headers={"Accept-Language": "en"})
    assert "you cannot activate your account here" in notice.get_data(as_text=True)
    identify(client, flow, registration, mobile="6944000111")
    assert outbox.messages[-1]["to"] == MOBILE
    response = enter_pin(client, flow, outbox.last_pin())
    assert response.status_code == 303 and response.headers["Location"].endswith("/review")
    done = finish(client, flow)
    text = done.get_data(as_text=True)
    assert 'class="username">dmakris<' in text and "registration number" not in text
    with app.app_context():
        account = db.session().scalar(sa.select(Account))
        assert (account.username, account.domain, account.status) == (
            "dmakris", "example.edu", "active")
        assert [a.role for a in account.person.affiliations] == ["faculty"]


def test_a_student_number_does_not_activate_as_staff(client, outbox, make_registry_record):
    registration = make_registry_record()
    flow = _start_staff(client)
    identify(client, flow, registration, mobile="6912345678")
    assert outbox.messages == []  # the same answer, but nothing sent
    refused = enter_pin(client, flow, "123456")
    assert refused.status_code == 400


def test_without_a_contact_on_record_no_pin_is_ever_sent(client, outbox, hr_record):
    registration = hr_record(mobile_phone=None, ext_email=None)
    flow = _start_staff(client)
    identify(client, flow, registration, mobile="6944000111")
    assert outbox.messages == []


def test_a_staff_member_who_has_an_account_keeps_it(app, client, outbox, hr_record, login):
    registration = hr_record()
    flow = _start_staff(client)
    identify(client, flow, registration, mobile="6944000111")
    enter_pin(client, flow, outbox.last_pin())
    finish(client, flow)
    again = app.test_client()
    flow = _start_staff(again)
    identify(again, flow, registration, mobile="6944000111")
    refused = enter_pin(again, flow, outbox.last_pin())
    assert refused.status_code == 409 and "ACT-003" in refused.get_data(as_text=True)
    assert login(app.test_client(), "dmakris", PASSWORD).status_code == 303
