"""Guessing one account from many addresses: unknown browsers share a backoff and, after 100
failures in a row, are refused; the owner's browser, where the account signed in before, is
never slowed down. The owner is told by email, in the language of their last sign-in."""

import json

import pytest
import sqlalchemy as sa

from idp import db
from idp.audit import AuditEvent
from idp.credentials import throttle
from idp.identity import accounts


def address(number: int) -> dict:
    return {"REMOTE_ADDR": f"10.{number // 250}.{number % 250}.7"}


def attack(app, clock, login, username: str, attempts: int, first_address: int = 0) -> list[str]:
    """``attempts`` wrong passwords, each from a new browser at a new address, waiting out every
    backoff announced; the error code each attempt got in the end."""
    codes = []
    for number in range(first_address, first_address + attempts):
        while True:
            answer = login(app.test_client(), username, "guess-" + str(number), **address(number))
            if answer.status_code != 429:
                break
            assert "LOGIN-007" in answer.get_data(as_text=True)
            clock.advance(int(answer.headers["Retry-After"]))
        codes.append(next(code for code in ("LOGIN-001", "LOGIN-008")
                          if code in answer.get_data(as_text=True)))
    return codes


def test_101_failures_from_101_addresses_stop_new_browsers_not_the_owner(
        app, clock, make_account, login, csrf, outbox):
    username, password = make_account(external_email="maria@example.org")
    owner = app.test_client()
    owner.set_cookie("kleidi_lang", "en", domain="localhost")
    assert login(owner, username, password, **address(900)).status_code == 303
    owner.post("/logout", data={"csrf_token": csrf(owner.get("/logout"))})
    assert owner.get("/").status_code == 302

    codes = attack(app, clock, login, username, 101)
    assert codes == ["LOGIN-001"] * 100 + ["LOGIN-008"]

    stranger = login(app.test_client(), username, password, **address(950))
    assert stranger.status_code == 403 and "LOGIN-008" in stranger.get_data(as_text=True)
    again = login(owner, username, password, **address(5))  # even from an attacker's address
    assert again.status_code == 303
    assert owner.get("/").status_code == 200

    notices = outbox.to("maria@example.org")
    assert len(notices) == 1
    assert notices[0]["subject"] == f"Wrong passwords for your account {username}"
    assert "10 times" in notices[0]["body"] and "guess" not in notices[0]["body"]


@pytest.mark.settings(LOGIN_FAILURES_PER_ACCOUNT=3)
def test_unknown_browsers_share_a_backoff_that_doubles(app, clock, make_account, login):
    username, password = make_account()
    for number in range(3):
        assert login(app.test_client(), username, "guess", **address(number)).status_code == 200
    waits = []
    for number in range(3, 6):
        slowed = login(app.test_client(), username, password, **address(number))
        assert slowed.status_code == 429 and "LOGIN-007" in slowed.get_data(as_text=True)
        waits.append(int(slowed.headers["Retry-After"]))
        clock.advance(waits[-1])
        assert login(app.test_client(), username, "guess", **address(number)).status_code == 200
    assert waits == [1, 2, 4]
    clock.advance(8)
    assert login(app.test_client(), username, password, **address(7)).status_code == 303
    with app.test_request_context():
        assert throttle.account_state(username).failures == 0  # a success ends the run


@pytest.mark.settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_MAX_FAILURES_PER_ACCOUNT=5)
def test_unknown_usernames_get_the_same_answers(app, clock, make_account, login):
    username, _ = make_account()
    seen = {}
    for name in (username, "nobody-at-all"):
        seen[name] = [(answer.status_code, answer.headers.get("Retry-After"))
                      for answer in _answers(app, clock, login, name)]
    assert seen[username] == seen["nobody-at-all"]
    assert [status for status, _ in seen[username]][-1] == 403


def _answers(app, clock, login, name):
    for number in range(8):
        answer = login(app.test_client(), name, "guess", **address(number))
        yield answer
        if answer.status_code == 429:
            clock.advance(int(answer.headers["Retry-After"]))


@pytest.mark.settings(LOGIN_FAILURES_PER_ACCOUNT=2)
def test_an_attempt_being_checked_holds_its_turn(app, clock, make_account):
    """Parallel requests cannot slip past the backoff: each takes its turn before its password
    is checked, so a second one arriving meanwhile already waits."""
    username, _ = make_account()
    with app.test_request_context():
        for _ in range(2):
            throttle.login_failed(throttle.begin_login(username, "10.0.1.7"))
        clock.advance(1)
        first = throttle.begin_login(username, "10.0.2.7")
        second = throttle.begin_login(username, "10.0.3.7")
    assert first.refusal is None
    assert second.refusal == throttle.Refusal("LOGIN-007", 2)


@pytest.mark.settings(LOGIN_FAILURES_PER_ACCOUNT=2, LOGIN_MAX_FAILURES_PER_ACCOUNT=3,
                      LOGIN_DEVICE_MAX_FAILURES=3)
def test_a_known_browser_that_types_wrong_passwords_becomes_unknown(app, clock, make_account,
                                                                   login):
    username, password = make_account()
    owner = app.test_client()
    login(owner, username, password)
    attack(app, clock, login, username, 4)
    for _ in range(3):  # the owner's typos do not wait (a copied cookie: three guesses)
        assert login(owner, username, "typo").status_code == 200
    refused = login(owner, username, password)
    assert refused.status_code == 403 and "LOGIN-008" in refused.get_data(as_text=True)


@pytest.mark.settings(LOGIN_FAILURES_PER_ACCOUNT=1, LOGIN_MAX_FAILURES_PER_ACCOUNT=2)
def test_a_forged_or_foreign_device_cookie_counts_for_nothing(app, clock, make_account, login):
    username, password = make_account()
    other_user, other_password = make_account()
    browser = app.test_client()
    login(browser, other_user, other_password)   # a token, but for another account
    attack(app, clock, login, username, 3)
    assert login(browser, username, password).status_code == 403
    forged = app.test_client()
    forged.set_cookie("kleidi_device", browser.get_cookie("kleidi_device").value[:-2] + "xx",
                      domain="localhost")
    assert login(forged, username, password).status_code == 403


@pytest.mark.settings(LOGIN_FAILURES_PER_ACCOUNT=1, LOGIN_MAX_FAILURES_PER_ACCOUNT=2)
def test_a_new_password_lifts_the_block(app, clock, make_account, login):
    username, _ = make_account()
    attack(app, clock, login, username, 3)
    with app.test_request_context():
        accounts.set_password(accounts.find_by_username(username), "a whole new passphrase")
        db.session().commit()
    assert login(app.test_client(), username, "a whole new passphrase").status_code == 303


@pytest.mark.settings(LOGIN_FAILURES_PER_ACCOUNT=2, LOGIN_MAX_FAILURES_PER_ACCOUNT=4)
def test_the_helpdesk_sees_the_state_and_can_lift_it(app, clock, make_account, login):
    username, password = make_account()
    runner = app.test_cli_runner()
    attack(app, clock, login, username, 3)
    state = json.loads(runner.invoke(args=["throttle", "show", username, "--json"]).output)
    assert state["username"] == username
    assert state["failures"] == 3 and state["blocked"] is False and state["wait"] == 2
    assert 0 < state["forgotten_in"] <= 30 * 24 * 3600
    attack(app, clock, login, username, 2, first_address=3)
    assert "unknown browsers are blocked" in runner.invoke(args=["throttle", "show", username]).output
    assert runner.invoke(args=["throttle", "clear", username]).exit_code != 0  # --reason
    done = runner.invoke(args=["throttle", "clear", username, "--reason", "ticket 77"])
    assert done.exit_code == 0, done.output
    assert login(app.test_client(), username, password).status_code == 303
    with app.app_context():
        event = db.session().scalar(sa.select(AuditEvent).where(
            AuditEvent.event == "login.throttle_cleared"))
        assert event.detail == {"reason": "ticket 77", "failures": 4}
    assert runner.invoke(args=["throttle", "show", "nobody"]).exit_code != 0


@pytest.mark.settings(LOGIN_FAILURES_PER_ACCOUNT=2)
def test_the_notice_follows_the_owners_language_not_the_attackers(app, clock, make_account,
                                                                  login, outbox):
    username, password = make_account(external_email="maria@example.org")
    login(app.test_client(), username, password)             # Greek, the default
    attacker = app.test_client()
    attacker.set_cookie("kleidi_lang", "en", domain="localhost")
    for number in range(2):
        login(attacker, username, "guess", **address(number))
    [notice] = outbox.to("maria@example.org")
    assert notice["subject"] == f"Λάθος κωδικοί για τον λογαριασμό σας {username}"
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).where(
            AuditEvent.event == "login.backoff_started")) == 1
