"""Enrolling and removing the second factor from the account pages."""

import base64
import re
from urllib.parse import unquote

from mfa_helpers import code, enrol, second_step


def _start_enrolment(client, csrf):
    page = client.get("/account/second-factor")
    assert "Ρύθμιση εφαρμογής επαλήθευσης" in page.get_data(as_text=True)
    started = client.post("/account/second-factor", data={"csrf_token": csrf(page)})
    assert started.headers["Location"].endswith("/account/second-factor/setup")
    return client.get("/account/second-factor/setup")


def _key(page) -> str:
    shown = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page.get_data(as_text=True))
    return shown.group(1).replace(" ", "")


def test_enrolment_shows_a_qr_code_and_the_key_then_confirms_with_a_code(
        app, client, clock, make_account, login, csrf):
    username, password = make_account()
    login(client, username, password)
    setup = _start_enrolment(client, csrf)
    body = setup.get_data(as_text=True)
    assert "<script" not in body
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', body).group(1)
    svg = unquote(qr.split(",", 1)[1]) if "base64" not in qr else base64.b64decode(
        qr.split(",", 1)[1]).decode()
    assert svg.lstrip().startswith(("<?xml", "<svg"))
    secret = _key(setup)
    wrong = client.post("/account/second-factor/setup",
                        data={"csrf_token": csrf(setup), "code": "123456"})
    assert "MFA-004" in wrong.get_data(as_text=True)
    done = client.post("/account/second-factor/setup",
                       data={"csrf_token": csrf(setup), "code": code(app, secret)})
    codes = re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>",
                       done.get_data(as_text=True))
    assert len(codes) == 10
    # From now on a login needs the code from the app.
    clock.advance(30)
    other = app.test_client()
    assert login(other, username, password).headers["Location"].endswith("/login/second-factor")
    assert second_step(other, csrf, code(app, secret)).status_code == 303
    status = client.get("/account/second-factor").get_data(as_text=True)
    assert "Αχρησιμοποίητοι κωδικοί ανάκτησης: 10" in status


def test_enrolment_needs_a_recent_login(app, client, clock, make_account, login, csrf):
    username, password = make_account()
    login(client, username, password)
    clock.advance(6 * 60)
    page = client.get("/account/second-factor")
    started = client.post("/account/second-factor", data={"csrf_token": csrf(page)})
    assert "/account/confirm" in started.headers["Location"]


def test_removal_needs_the_password_and_a_code(app, client, clock, make_account, login, csrf):
    username, password = make_account()
    secret, codes = enrol(app, clock, username)
    login(client, username, password)
    second_step(client, csrf, code(app, secret))
    clock.advance(6 * 60)
    asked = client.get("/account/second-factor/remove")
    assert "/account/confirm" in asked.headers["Location"]
    confirm = client.get(asked.headers["Location"])
    body = confirm.get_data(as_text=True)
    assert 'name="password"' in body and 'name="code"' in body
    refused = client.post("/account/confirm", data={
        "csrf_token": csrf(confirm), "password": password, "code": "",
        "next": "/account/second-factor/remove"})
    assert "ACCT-001" in refused.get_data(as_text=True)
    accepted = client.post("/account/confirm", data={
        "csrf_token": csrf(confirm), "password": password, "code": codes[0],
        "next": "/account/second-factor/remove"})
    assert accepted.headers["Location"].endswith("/account/second-factor/remove")
    page = client.get("/account/second-factor/remove")
    removed = client.post("/account/second-factor/remove", data={"csrf_token": csrf(page)})
    assert removed.status_code == 302
    other = app.test_client()
    assert login(other, username, password).headers["Location"].endswith("/login/continue")


def test_confirmation_goes_back_only_to_account_pages(client, make_account, login, csrf):
    username, password = make_account()
    login(client, username, password)
    page = client.get("/account/confirm?next=https://evil.example/x")
    done = client.post("/account/confirm", data={
        "csrf_token": csrf(page), "password": password, "next": "https://evil.example/x"})
    assert done.headers["Location"].endswith("/account")


def test_the_contacts_are_told_when_the_second_factor_changes(app, client, clock, make_account,
                                                             login, csrf, outbox):
    username, password = make_account(mobile="+306912345678", external_email="m@example.org")
    login(client, username, password)
    setup = _start_enrolment(client, csrf)
    client.post("/account/second-factor/setup",
                data={"csrf_token": csrf(setup), "code": code(app, _key(setup))})
    assert {m["to"] for m in outbox.messages} == {"+306912345678", "m@example.org"}
    page = client.get("/account/second-factor/remove")
    client.post("/account/second-factor/remove", data={"csrf_token": csrf(page)})
    assert len(outbox.messages) == 4
    assert all(username in m["body"] for m in outbox.messages)
