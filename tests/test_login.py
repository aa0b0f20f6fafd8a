"""Logging in and out through the login page."""

import re

import sqlalchemy as sa

from idp import db
from idp.audit import AuditEvent
from idp.credentials import passwords
from idp.identity.models import Account


def _body_without_token(response) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', response.get_data(as_text=True))


def test_login_page_has_the_form(client):
    page = client.get("/login")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'name="username"' in body and 'name="password"' in body
    assert 'autocomplete="current-password"' in body


def test_login_success_then_logout(client, make_account, login, csrf):
    username, password = make_account()
    response = login(client, username, password)
    assert response.status_code == 303
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert f"{username}@example.edu" in home.get_data(as_text=True)
    page = client.get("/logout")
    client.post("/logout", data={"csrf_token": csrf(page)})
    assert client.get("/").headers["Location"].endswith("/login")


def test_wrong_password_and_unknown_user_get_the_same_answer(app, client, make_account, login):
    username, _ = make_account()
    wrong = login(client, username, "not the password")
    unknown = login(client, "nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert "LOGIN-001" in wrong.get_data(as_text=True)
    assert _body_without_token(wrong).replace(username, "X") == \
        _body_without_token(unknown).replace("nobody-here", "X")


def test_unknown_user_costs_an_argon2_verification(app, client, login, monkeypatch):
    calls = []
    real = passwords.verify
    monkeypatch.setattr(passwords, "verify", lambda h, p: calls.append(h) or real(h, p))
    login(client, "nobody-here", "whatever")
    assert calls and calls[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_failures_are_audited_without_the_password(app, client, make_account, login):
    username, _ = make_account()
    login(client, username, "secret-guess-123")
    with app.app_context():
        events = db.session().scalars(sa.select(AuditEvent).where(
            AuditEvent.event == "login.failure")).all()
        assert len(events) == 1
        assert "secret-guess-123" not in str(events[0].detail)


def test_session_id_changes_at_login(app, client, make_account, login):
    username, password = make_account()
    client.get("/login")
    before = client.get_cookie("kleidi_session").value
    login(client, username, password)
    after = client.get_cookie("kleidi_session").value
    assert before != after
    # The pre-login id is no longer a session: a browser holding it is not signed in.
    other = app.test_client()
    other.set_cookie("kleidi_session", before, domain="localhost")
    assert other.get("/").status_code == 302


def test_cookie_flags_over_http(client, make_account, login):
    username, password = make_account()
    response = login(client, username, password)
    cookie = [h for h in response.headers.getlist("Set-Cookie") if "kleidi_session=" in h][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_cookie_flags_over_https(app, make_account, login):
    username, password = make_account()
    client = app.test_client()
    response = login(client, username, password, base_url="https://localhost")
    cookie = [h for h in response.headers.getlist("Set-Cookie") if "kleidi_session=" in h][0]
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie


def test_password_change_ends_other_sessions(app, make_account, login):
    username, password = make_account()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, username, password)
    login(phone, username, password)
    assert phone.get("/").status_code == 200
    with app.test_request_context():
        from idp.identity import accounts

        account = accounts.find_by_username(username)
        accounts.set_password(account, "a brand new passphrase")
        db.session().commit()
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 302


def test_disabled_account_cannot_log_in(client, make_account, login):
    username, password = make_account(status="disabled")
    response = login(client, username, password)
    assert response.status_code == 403
    assert "LOGIN-003" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_disabling_an_account_ends_its_session(app, client, make_account, login):
    username, password = make_account()
    login(client, username, password)
    with app.app_context():
        account = db.session().scalar(sa.select(Account).where(Account.username == username))
        account.status = "disabled"
        db.session().commit()
    assert client.get("/").status_code == 302


def test_old_hash_parameters_are_upgraded_at_login(app, client, make_account, login):
    username, password = make_account()
    app.config["ARGON2_TIME_COST"] = 3
    login(client, username, password)
    with app.app_context():
        account = db.session().scalar(sa.select(Account).where(Account.username == username))
        assert ",t=3," in account.password_hash


def test_username_is_case_insensitive(client, make_account, login):
    username, password = make_account("maria")
    answer = login(client, "  MARIA ", password)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/login/continue")
    assert "maria" in client.get("/").get_data(as_text=True)


def test_login_form_without_csrf_token_is_refused(client, make_account):
    username, password = make_account()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 400
    assert "GEN-003" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_logout_without_csrf_token_is_refused(client, make_account, login):
    username, password = make_account()
    login(client, username, password)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
