"""Changing the password when signed in: the current password first, the policy, every
other session ends, this one stays, the contacts are told."""

import pytest
from mfa_helpers import account
from recovery_helpers import NEW_PASSWORD, post_form

MOBILE, EMAIL = "+306912345678", "maria@example.org"


@pytest.fixture
def person(make_account):
    return make_account(mobile=MOBILE, external_email=EMAIL)


def _change(client, csrf, current, new=NEW_PASSWORD, repeat=None):
    return post_form(client, csrf, "/account/password",
                     {"current": current, "new": new, "repeat": repeat or new})


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_change_keeps_this_session_and_ends_the_others(app, client, csrf, login, outbox, person):
    username, password = person
    other = app.test_client()
    login(other, username, password)
    login(client, username, password)
    with app.app_context():
        epoch = account(username).session_epoch
    done = _change(client, csrf, password)
    assert done.status_code == 200
    assert _signed_in(client) and not _signed_in(other)
    with app.app_context():
        assert account(username).session_epoch == epoch + 1
    assert login(app.test_client(), username, NEW_PASSWORD).status_code == 303
    assert login(app.test_client(), username, password).status_code == 200
    assert {m["to"] for m in outbox.messages} == {MOBILE, EMAIL}


def test_the_current_password_is_required(app, client, csrf, login, outbox, person):
    username, password = person
    login(client, username, password)
    refused = _change(client, csrf, "not my password")
    assert "ACCT-002" in refused.get_data(as_text=True)
    assert login(app.test_client(), username, password).status_code == 303
    assert outbox.messages == []


@pytest.mark.parametrize("new", ["short", "password123", "Papadopoulou2026!"])
def test_the_new_password_must_meet_the_policy(app, client, csrf, login, person, new):
    username, password = person
    login(client, username, password)
    refused = _change(client, csrf, password, new=new)
    assert refused.status_code == 200 and 'class="error"' in refused.get_data(as_text=True)
    assert login(app.test_client(), username, password).status_code == 303


def test_the_two_new_passwords_must_match(app, client, csrf, login, person):
    username, password = person
    login(client, username, password)
    refused = _change(client, csrf, password, repeat=NEW_PASSWORD + "x")
    assert refused.status_code == 400 and "δεν είναι ίδιοι" in refused.get_data(as_text=True)
    assert "Location" in login(app.test_client(), username, password).headers  # still the old one


def test_signed_out_people_are_sent_to_log_in(client):
    assert client.get("/account/password").headers["Location"].endswith("/login")
