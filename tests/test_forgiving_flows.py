"""The mistakes people make in the flows are forgiven: the Back button, a PIN typed with
spaces or of the wrong length, asking for another PIN too soon, forgetting to keep a
recovery contact; and the same layout for a refused password wherever one is set."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import csrf_token
from recovery_helpers import ask_recovery, normalized, post_form
from test_activation_flow import activate, amka_for, enter_pin, identify, start, stored, submit

from idp import db
from idp.flows import Flow

MOBILE = "+306912345678"
EN = {"Accept-Language": "en"}


@pytest.fixture
def registry(make_registry_record):
    make_registry_record(birth_date=date(2004, 3, 9))  # no AMKA in the registry: AMKA step


def _state(app, flow_url: str) -> str:
    with app.app_context():
        return db.session().get(Flow, flow_url.rsplit("/", 1)[1]).state


def test_back_returns_to_the_previous_step_and_sending_it_again_continues(
        app, client, outbox, registry):
    flow, response = activate(client, outbox, "00012345")
    assert response.headers["Location"].endswith("/amka")
    amka = amka_for(date(2004, 3, 9))
    assert submit(client, f"{flow}/amka", {"amka": amka}).headers["Location"].endswith("/review")
    # Back from the review: the AMKA page, not FLOW-003; sending it again moves on
    back = client.get(f"{flow}/amka")
    assert back.status_code == 200 and 'name="amka"' in back.get_data(as_text=True)
    again = client.post(f"{flow}/amka", data={"csrf_token": csrf_token(back), "amka": amka})
    assert again.status_code == 303 and again.headers["Location"].endswith("/review")
    # Back twice more: the PIN was used up, so its page shows the step the flow is at
    pin_page = client.get(f"{flow}/pin")
    assert pin_page.status_code == 303 and pin_page.headers["Location"].endswith("/review")
    assert _state(app, flow) == "review"


def test_back_to_the_details_means_a_new_pin(app, client, clock, outbox, registry):
    flow, _ = activate(client, outbox, "00012345")
    clock.advance(60)  # the same contact gets a new PIN a minute after the last
    details = client.get(f"{flow}/identify")
    assert details.status_code == 200
    assert client.get(f"{flow}/password").status_code == 409  # forward is still no shortcut
    resent = client.post(f"{flow}/identify", data={
        "csrf_token": csrf_token(details), "registration_id": "00012345", "mobile": MOBILE,
        "email": "", "tin": "", "tin_country": "GR"})
    assert resent.headers["Location"].endswith("/pin") and _state(app, flow) == "pin_sent"
    assert client.get(f"{flow}/review").status_code == 409  # what followed is forgotten
    assert enter_pin(client, flow, outbox.last_pin(MOBILE)).headers["Location"].endswith("/amka")


def test_activation_pages_are_not_kept_by_the_browser(client, registry):
    flow = start(client)
    assert client.get(f"{flow}/identify").headers["Cache-Control"] == "no-store"


def test_a_pin_with_spaces_is_read_and_one_of_the_wrong_length_costs_no_try(
        app, client, outbox, registry):
    flow = start(client)
    identify(client, flow, "00012345", mobile=MOBILE)
    pin = outbox.last_pin(MOBILE)
    for typo in ("12345", "1234567", "12a456", ""):
        page = client.get(f"{flow}/pin", headers=EN)
        refused = client.post(f"{flow}/pin", headers=EN, data={
            "csrf_token": csrf_token(page), "pin": typo, "action": "verify"})
        body = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "A PIN has six digits" in body, typo
        assert 'aria-describedby="pin-hint pin-error-1"' in body
    with app.app_context():
        assert db.session().get(Flow, flow.rsplit("/", 1)[1]).attempts == 0
    spaced = f"{pin[:3]} {pin[3:]}"
    assert enter_pin(client, flow, spaced).headers["Location"].endswith("/amka")


def test_another_pin_too_soon_says_how_long_to_wait(app, client, clock, outbox, registry):
    flow = start(client)
    identify(client, flow, "00012345", mobile=MOBILE)
    page = client.get(f"{flow}/pin", headers=EN)
    soon = client.post(f"{flow}/pin", headers=EN, data={"csrf_token": csrf_token(page),
                                                         "action": "resend"})
    assert soon.status_code == 429
    assert "You can ask for a new PIN in 60 seconds." in soon.get_data(as_text=True)
    assert len(outbox.to(MOBILE)) == 1
    clock.advance(60)
    assert submit(client, f"{flow}/pin", {"action": "resend"}).status_code == 303
    assert len(outbox.to(MOBILE)) == 2


def test_an_honest_retry_after_starting_again_is_sent_and_pumping_is_stopped(
        app, client, clock, outbox, registry):
    sent = 0
    for _ in range(4):  # four procedures, three sends each: the contact's hour allows six
        flow = start(client)
        identify(client, flow, "00012345", mobile=MOBILE) if sent < 6 else None
        for _ in range(2):
            clock.advance(60)
            if sent < 6:
                submit(client, f"{flow}/pin", {"action": "resend"})
        sent = len(outbox.to(MOBILE))
    assert sent == 6
    flow = start(client)
    page = client.get(f"{flow}/identify", headers=EN)
    refused = client.post(f"{flow}/identify", headers=EN, data={
        "csrf_token": csrf_token(page), "registration_id": "00012345", "mobile": MOBILE,
        "email": "", "tin": "", "tin_country": "GR"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "You can ask for a new one in about" in body
    assert "PIN-001" in body and 'name="registration_id"' in body
    assert _state(app, flow) == "identify"


def test_the_contact_the_pin_proved_is_registered_unless_unticked(app, client, outbox,
                                                                    make_registry_record):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    review = client.get(f"{flow}/review", headers=EN).get_data(as_text=True)
    assert re.search(r'<input checked id="consent_mobile"', review)
    assert re.search(r'<input id="consent_email" name="consent_email" type="checkbox"', review)
    assert "you will not be able to recover a forgotten password yourself" in review
    page = client.get(f"{flow}/review")
    client.post(f"{flow}/review", data={"csrf_token": csrf_token(page), "consent_mobile": "y"})
    password = "a quiet walk by the sea"
    done = submit(client, f"{flow}/password", {"password": password, "confirmation": password})
    account, _, _ = stored(app, client.get(done.headers["Location"]).get_data(as_text=True)
                           .split('class="username">')[1].split("<")[0])
    assert account.mobile == MOBILE and account.external_email is None


def test_opting_out_of_every_contact_is_said_plainly_and_shown_on_the_account_page(
        app, client, outbox, make_registry_record, login):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    submit(client, f"{flow}/review", {})  # both unticked
    password = "a quiet walk by the sea"
    done = submit(client, f"{flow}/password", {"password": password, "confirmation": password})
    page = client.get(done.headers["Location"], headers=EN).get_data(as_text=True)
    assert "No contact for password recovery" in page
    login(client, "151200012345", password)
    account_page = client.get("/account", headers=EN).get_data(as_text=True)
    assert "No contact for password recovery" in account_page
    assert 'href="/account/contacts">Add a mobile or an email' in account_page


def test_recovery_tells_everyone_what_to_do_without_a_registered_contact(
        app, client, csrf, make_account):
    with_contact, _ = make_account(mobile=MOBILE)
    without, _ = make_account()
    answers = []
    for username in (with_contact, without):
        browser = app.test_client()
        asked = ask_recovery(browser, csrf, username, mobile=MOBILE)
        assert asked.status_code == 303
        body = browser.get(asked.headers["Location"], headers=EN).get_data(as_text=True)
        answers.append(normalized(body, asked.headers["Location"]).split('<main id="main">')[1])
    assert answers[0] == answers[1]  # the same answer, account with a contact or not
    assert "If no mobile or email is registered for your account, no PIN can be sent" in answers[0]


def test_refused_passwords_look_the_same_on_the_three_pages(app, client, csrf, outbox,
                                                           make_registry_record, make_account,
                                                           login):
    weak = "Welcome2024!"
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    submit(client, f"{flow}/review", {})
    activation = _refused(client, f"{flow}/password", {"password": weak, "confirmation": weak})
    username, password = make_account(mobile="+306900000001")
    other = app.test_client()
    login(other, username, password)
    change = _refused(other, "/account/password",
                      {"current": password, "new": weak, "repeat": weak})
    helper = app.test_client()
    asked = ask_recovery(helper, csrf, username, mobile="+306900000001")
    checked = post_form(helper, csrf, asked.headers["Location"],
                        {"pin": outbox.last_pin("+306900000001"), "action": "verify"})
    reset = _refused(helper, checked.headers["Location"], {"password": weak, "confirmation": weak})
    for body in (activation, change, reset):
        assert 'data-error-summary' in body and "This password is in a list of common" in body
        assert 'class="field-error" id="' in body and 'aria-invalid="true"' in body
        assert 'data-strength=' in body  # the hint while typing, on every page


def _refused(client, url: str, data: dict) -> str:
    page = client.get(url, headers=EN)
    response = client.post(url, headers=EN, data={"csrf_token": csrf_token(page), **data})
    assert response.status_code == 400, response.status_code
    return response.get_data(as_text=True)


def test_act_002_sends_the_person_to_the_office_its_text_names(app, client, outbox,
                                                              make_registry_record):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)), tin="090000045", tin_country="GR")
    flow = start(client)
    identify(client, flow, "00012345", mobile=MOBILE, tin="")
    page = client.get(f"{flow}/pin")
    refused = client.post(f"{flow}/pin", headers=EN, data={
        "csrf_token": csrf_token(page), "pin": outbox.last_pin(MOBILE), "action": "verify"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "ACT-002" in body and "secretariat of your department" in body
    registry = app.config["ACTIVATION_SUPPORT_EMAIL"]
    assert f'href="mailto:{registry}?subject=Error%20ACT-002' in body
    assert app.config["SUPPORT_EMAIL"] not in body.split("<footer>")[0]
