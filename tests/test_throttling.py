"""Brute-force defence: a delay per (username, address), never a lockout of the owner."""

import pytest

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
OWNER = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.mark.settings(LOGIN_FAILURES_PER_USER_IP=3)
def test_repeated_failures_delay_the_attacker_not_the_owner(app, make_account, login):
    username, password = make_account()
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(3):
        assert login(attacker, username, "guess", **ATTACKER).status_code == 200
    delayed = login(attacker, username, password, **ATTACKER)
    assert delayed.status_code == 429
    assert "LOGIN-002" in delayed.get_data(as_text=True)
    assert attacker.get("/", environ_base=ATTACKER).status_code == 302
    assert login(owner, username, password, **OWNER).status_code == 303


@pytest.mark.settings(LOGIN_FAILURES_PER_USER_IP=3)
def test_the_delay_passes(app, clock, make_account, login):
    username, password = make_account()
    client = app.test_client()
    for _ in range(3):
        login(client, username, "guess", **ATTACKER)
    assert login(client, username, password, **ATTACKER).status_code == 429
    clock.advance(2)
    assert login(client, username, password, **ATTACKER).status_code == 303


@pytest.mark.settings(LOGIN_FAILURES_PER_USER_IP=2)
def test_the_delay_doubles_with_each_further_failure(app, clock, make_account, login):
    username, _ = make_account()
    client = app.test_client()
    for _ in range(2):
        login(client, username, "guess", **ATTACKER)
    waits = []
    for _ in range(3):
        blocked = login(client, username, "guess", **ATTACKER)
        assert blocked.status_code == 429
        waits.append(int(blocked.headers["Retry-After"]))
        clock.advance(waits[-1])
        assert login(client, username, "guess", **ATTACKER).status_code == 200
    assert waits == [1, 2, 4]


@pytest.mark.settings(LOGIN_FAILURES_PER_IP=4, LOGIN_FAILURES_PER_USER_IP=100)
def test_spraying_many_usernames_from_one_address_is_delayed(app, make_account, login):
    username, password = make_account()
    client = app.test_client()
    for number in range(4):
        login(client, f"someone{number}", "guess", **ATTACKER)
    assert login(client, username, password, **ATTACKER).status_code == 429
    assert login(app.test_client(), username, password, **OWNER).status_code == 303
