"""Changing the recovery contacts: verified by PIN before they count, no institutional
email, a recent login required, the old contact told."""

import pytest
from mfa_helpers import account
from recovery_helpers import post_form

MOBILE, EMAIL = "+306912345678", "maria@example.org"


PASSWORD = "a long enough test password"


@pytest.fixture
def signed_in(client, make_account, login):
    username, password = make_account(mobile=MOBILE, external_email=EMAIL, password=PASSWORD)
    login(client, username, password)
    return username


def _ask(client, csrf, kind, value):
    return post_form(client, csrf, "/account/contacts", {"kind": kind, kind: value})


def _contacts(app, username):
    with app.app_context():
        row = account(username)
        return row.mobile, row.external_email


def test_a_new_email_counts_only_after_its_pin(app, client, csrf, outbox, signed_in):
    asked = _ask(client, csrf, "email", "Maria.New@Example.org")
    assert asked.status_code == 303
    assert _contacts(app, signed_in) == (MOBILE, EMAIL)
    pin = outbox.last_pin("Maria.New@example.org")
    wrong = post_form(client, csrf, asked.headers["Location"], {"pin": "000000",
                                                                "action": "verify"})
    assert wrong.status_code == 200 and _contacts(app, signed_in) == (MOBILE, EMAIL)
    done = post_form(client, csrf, asked.headers["Location"], {"pin": pin, "action": "verify"})
    assert done.status_code == 200 and "Maria.New@example.org" in done.get_data(as_text=True)
    assert _contacts(app, signed_in) == (MOBILE, "Maria.New@example.org")
    told = outbox.to(EMAIL)
    assert len(told) == 1 and signed_in in told[0]["body"]


def test_a_new_mobile_gets_an_sms_pin_and_the_old_one_is_told(app, client, csrf, outbox,
                                                              signed_in):
    asked = _ask(client, csrf, "mobile", "6987654321")
    pin = outbox.last_pin("+306987654321")
    post_form(client, csrf, asked.headers["Location"], {"pin": pin, "action": "verify"})
    assert _contacts(app, signed_in) == ("+306987654321", EMAIL)
    assert [m["channel"] for m in outbox.to(MOBILE)] == ["sms"]


@pytest.mark.parametrize("address", ["me@example.edu", "me@upnet.example.edu",
                                     "me@mail.example.edu", "ME@EXAMPLE.EDU"])
def test_an_institutional_email_is_refused(app, client, csrf, outbox, signed_in, address):
    refused = _ask(client, csrf, "email", address)
    assert refused.status_code == 400 and "CONTACT-001" in refused.get_data(as_text=True)
    assert outbox.messages == [] and _contacts(app, signed_in) == (MOBILE, EMAIL)


def test_the_same_contact_again_is_refused(client, csrf, outbox, signed_in):
    refused = _ask(client, csrf, "mobile", "6912345678")
    assert "CONTACT-002" in refused.get_data(as_text=True) and outbox.messages == []


def test_an_invalid_mobile_is_refused(client, csrf, outbox, signed_in):
    refused = _ask(client, csrf, "mobile", "12")
    assert refused.status_code == 400 and outbox.messages == []
    assert "έγκυρος αριθμός κινητού" in refused.get_data(as_text=True)


def test_a_change_needs_a_recent_login(app, client, clock, csrf, outbox, signed_in):
    clock.advance(6 * 60)
    asked = client.get("/account/contacts")
    assert "/account/confirm" in asked.headers["Location"]
    token = csrf(client.get("/account/password"))
    posted = client.post("/account/contacts", data={"csrf_token": token, "kind": "email",
                                                    "email": "x@example.org"})
    assert "/account/confirm" in posted.headers["Location"] and outbox.messages == []


def test_signed_out_people_cannot_change_contacts(client):
    assert client.get("/account/contacts").headers["Location"].endswith("/login")


def test_confirming_the_password_allows_the_change(client, clock, csrf, outbox, signed_in):
    clock.advance(6 * 60)
    asked = client.get("/account/contacts")
    confirm = client.get(asked.headers["Location"])
    wrong = client.post("/account/confirm", data={"csrf_token": csrf(confirm),
                                                  "password": "wrong", "next": "/account/contacts"})
    assert "ACCT-001" in wrong.get_data(as_text=True)
    right = client.post("/account/confirm", data={"csrf_token": csrf(confirm),
                                                  "password": PASSWORD, "next": "/account/contacts"})
    assert right.headers["Location"].endswith("/account/contacts")
    assert _ask(client, csrf, "email", "new@example.org").status_code == 303
    assert outbox.to("new@example.org")
