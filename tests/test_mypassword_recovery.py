"""Recovery of a forgotten password: by mobile or by email, with a PIN, under the policy;
every session ends, the other contact is told, and unknown people learn nothing."""

import time

import pytest
import sqlalchemy as sa
from mfa_helpers import account, code, enrol, second_step
from recovery_helpers import NEW_PASSWORD, ask_recovery, normalized, post_form, recover

from idp import db

MOBILE, EMAIL = "+306912345678", "maria@example.org"


@pytest.fixture
def person(make_account):
    return make_account(mobile=MOBILE, external_email=EMAIL)


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


@pytest.mark.parametrize(("contact", "recipient", "other"), [
    ({"mobile": "6912345678"}, MOBILE, EMAIL),
    ({"email": "Maria@Example.org"}, EMAIL, MOBILE),
])
def test_recovery_sets_a_new_password_and_ends_every_session(app, client, csrf, login, outbox,
                                                             person, contact, recipient, other):
    username, old_password = person
    elsewhere = app.test_client()
    login(elsewhere, username, old_password)
    login(client, username, old_password)
    with app.app_context():
        epoch = account(username).session_epoch
    done = recover(client, csrf, outbox, username, recipient, **contact)
    assert done.status_code == 303
    page = client.get(done.headers["Location"])
    assert username in page.get_data(as_text=True)
    assert not _signed_in(elsewhere) and not _signed_in(client)  # no automatic login either
    with app.app_context():
        assert account(username).session_epoch > epoch  # refresh tokens follow the epoch
    assert login(app.test_client(), username, old_password).status_code == 200
    assert login(app.test_client(), username, NEW_PASSWORD).status_code == 303
    notices = outbox.to(other)  # the other contact got no PIN, only the notice
    assert len(notices) == 1 and username in notices[0]["body"]


def test_the_pin_goes_only_to_the_registered_contact(client, csrf, outbox, person):
    username, _password = person
    ask_recovery(client, csrf, username, mobile="6912345678")
    assert [m["to"] for m in outbox.messages] == [MOBILE]


@pytest.mark.parametrize("unknown", [
    {"username": "nobody", "mobile": "6912345678"},
    {"username": None, "mobile": "6999999999"},
    {"username": None, "email": "someone@example.org"},
    {"username": "disabled", "mobile": "6912345678"},
])
@pytest.mark.settings(RECOVERY_IDENTIFY_MIN_SECONDS=0.2)
def test_unknown_usernames_or_contacts_get_the_identical_answer(app, csrf, outbox, person,
                                                                make_account, unknown):
    username, _password = person
    make_account("disabled", status="disabled", mobile=MOBILE)
    channel = "mobile" if "mobile" in unknown else "email"
    known_contact = {"mobile": "6912345678", "email": EMAIL}[channel]
    answers = []
    for who, contact in ((username, known_contact), (unknown["username"] or username,
                                                     unknown[channel])):
        client = app.test_client()
        started = time.monotonic()
        asked = ask_recovery(client, csrf, who, **{channel: contact})
        elapsed = time.monotonic() - started
        page = client.get(asked.headers["Location"])
        answers.append((asked, page, elapsed))
    (known_ask, known_page, known_time), (other_ask, other_page, other_time) = answers
    assert known_ask.status_code == other_ask.status_code == 303
    assert known_page.status_code == other_page.status_code == 200
    known_url, other_url = known_ask.headers["Location"], other_ask.headers["Location"]
    assert (normalized(known_ask.get_data(as_text=True), known_url)
            == normalized(other_ask.get_data(as_text=True), other_url))
    assert (normalized(known_page.get_data(as_text=True), known_url)
            == normalized(other_page.get_data(as_text=True), other_url))
    assert known_time >= 0.2 and other_time >= 0.2  # both wait for the same floor
    assert len(outbox.messages) == 1


def test_asking_changes_nothing_about_the_account(app, client, csrf, login, outbox, person):
    username, password = person
    signed_in = app.test_client()
    login(signed_in, username, password)
    with app.app_context():
        before = _state(username)
    asked = ask_recovery(client, csrf, username, mobile="6912345678")
    for _ in range(3):
        post_form(client, csrf, asked.headers["Location"], {"pin": "000000", "action": "verify"})
    with app.app_context():
        assert _state(username) == before
    assert _signed_in(signed_in)
    assert login(app.test_client(), username, password).status_code == 303


def _state(username):
    row = account(username)
    return (row.password_hash, row.session_epoch, row.status, row.must_change_password)


def test_wrong_pins_end_the_procedure(client, csrf, outbox, person):
    username, _password = person
    asked = ask_recovery(client, csrf, username, mobile="6912345678")
    for _ in range(4):
        wrong = post_form(client, csrf, asked.headers["Location"],
                          {"pin": "000000", "action": "verify"})
        assert wrong.status_code == 200
    stopped = post_form(client, csrf, asked.headers["Location"],
                        {"pin": "000000", "action": "verify"})
    assert "PIN-002" in stopped.get_data(as_text=True)
    late = client.get(asked.headers["Location"])
    assert late.status_code == 403 and "FLOW-004" in late.get_data(as_text=True)


def test_the_new_password_must_meet_the_policy(client, csrf, outbox, person):
    username, _password = person
    refused = recover(client, csrf, outbox, username, MOBILE, password="password123",
                      mobile="6912345678")
    assert refused.status_code == 400
    assert "error" in refused.get_data(as_text=True)


def test_a_pin_cannot_skip_to_another_procedure(client, csrf, outbox, person):
    username, _password = person
    asked = ask_recovery(client, csrf, username, mobile="6912345678")
    password_url = asked.headers["Location"].replace("/pin", "/password")
    skipped = post_form(client, csrf, password_url, {"password": NEW_PASSWORD,
                                                     "confirmation": NEW_PASSWORD},
                        page_url=asked.headers["Location"])
    assert skipped.status_code == 409 and "FLOW-003" in skipped.get_data(as_text=True)


def test_a_second_factor_still_guards_the_login_after_a_reset(app, client, clock, csrf, login,
                                                             outbox, person):
    username, _password = person
    secret, _codes = enrol(app, clock, username)
    recover(client, csrf, outbox, username, MOBILE, mobile="6912345678")
    after = login(client, username, NEW_PASSWORD)
    assert after.headers["Location"].endswith("/login/second-factor")
    assert second_step(client, csrf, code(app, secret)).status_code == 303


def test_the_login_page_links_to_recovery(client):
    assert 'href="/recovery"' in client.get("/login").get_data(as_text=True)


def test_audit_records_the_reset_without_secrets(app, client, csrf, outbox, person):
    username, _password = person
    recover(client, csrf, outbox, username, MOBILE, mobile="6912345678")
    from idp.audit import AuditEvent

    with app.app_context():
        events = db.session().scalars(sa.select(AuditEvent)).all()
        text = repr([(e.event, e.detail) for e in events])
    assert "password.reset" in text and NEW_PASSWORD not in text


@pytest.mark.settings(RECOVERY_STARTS_PER_IP_HOUR=2)
def test_recoveries_started_per_address_are_limited(client, csrf, outbox, person):
    username, _password = person
    for _ in range(2):
        assert ask_recovery(client, csrf, username, mobile="6912345678").status_code == 303
    limited = ask_recovery(client, csrf, username, mobile="6912345678")
    assert limited.status_code == 429 and "RECOVERY-002" in limited.get_data(as_text=True)
    assert len(outbox.messages) == 2
