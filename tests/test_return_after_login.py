"""A person sent to log in from a page that needs a signed-in person comes back to that page
once logged in (with the code, when the account has a second factor): an operator to the
console page they opened, and only ever to a page under the area that sent them."""

from __future__ import annotations

import pytest
from conftest import csrf_token
from mfa_helpers import code, enrol

from idp.navigation import returnable


def _enter_code(client, page, app, secret: str):
    return client.post("/login/second-factor", data={
        "csrf_token": csrf_token(page), "code": code(app, secret)}, follow_redirects=True)


def _on(response, path: str, query: bytes = b"") -> bool:
    return (response.status_code, response.request.path,
            response.request.query_string) == (200, path, query)


def _log_in(client, page, username: str, password: str):
    return client.post("/login", data={"csrf_token": csrf_token(page), "i": "",
                                       "username": username, "password": password},
                       follow_redirects=True)


def test_an_operator_asked_for_the_code_comes_back_to_the_page(app, clock, make_operator):
    helpdesk = make_operator("helpdesk", second_factor=False)
    client = app.test_client()
    helpdesk.sign_in(client, language="en")  # password only: enrolled after the session began
    secret = enrol(app, clock, helpdesk.username)[0]
    asked = client.get("/manage/people?q=mpapad", follow_redirects=True)
    assert _on(asked, "/login/second-factor")
    done = _enter_code(client, asked, app, secret)
    assert _on(done, "/manage/people", b"q=mpapad"), done.request.path
    assert 'value="mpapad"' in done.get_data(as_text=True)  # the search it asked for


def test_an_operator_sent_to_log_in_comes_back_to_the_page_once(app, make_operator):
    helpdesk = make_operator("helpdesk")
    client = app.test_client()
    page = client.get("/manage/people?q=mpapad", follow_redirects=True)
    assert _on(page, "/login")
    asked = _log_in(client, page, helpdesk.username, helpdesk.password)
    assert _on(asked, "/login/second-factor")
    done = _enter_code(client, asked, app, helpdesk.secret)
    assert _on(done, "/manage/people", b"q=mpapad"), done.request.path
    again = client.get("/login/continue")  # the way back serves one login: then home
    assert again.status_code == 302 and again.headers["Location"] == "/"


@pytest.mark.parametrize("role,asked", [
    ("undergraduate", "/account/contacts"),  # a person's own account pages
    ("staff", "/rp"),  # a service owner's registrations
])
def test_a_person_sent_to_log_in_comes_back_to_the_page(app, make_account, role, asked):
    username, password = make_account(role=role)
    client = app.test_client()
    page = client.get(asked, follow_redirects=True)
    assert _on(page, "/login")
    done = _log_in(client, page, username, password)
    assert _on(done, asked), done.request.path


def test_a_login_from_the_login_page_still_ends_at_home(app, make_account):
    """A page remembered earlier is forgotten when another request sends the person to log
    in without a page to come back to (here: a form's post)."""
    username, password = make_account()
    client = app.test_client()
    client.get("/account/contacts")
    token = csrf_token(client.get("/login"))
    sent = client.post("/manage/people/someone/disable", data={"csrf_token": token})
    assert sent.status_code == 303
    done = _log_in(client, client.get("/login"), username, password)
    assert _on(done, "/"), done.request.path


def test_only_a_page_is_remembered(app, make_account):
    """A form's post (no page to show again) and a path that a browser resolves outside
    /manage are not remembered: the login ends on the home page."""
    username, password = make_account()
    for method, path in (("POST", "/manage/people/someone/disable"),
                         ("GET", "/manage/people/%2e%2e"), ("GET", "/manage/people/.%2E")):
        client = app.test_client()
        token = csrf_token(client.get("/login"))
        sent = client.open(path, method=method, data={"csrf_token": token, "reason": "x"})
        assert sent.status_code == 303 and sent.headers["Location"] == "/login", (method, path)
        done = _log_in(client, client.get("/login"), username, password)
        assert _on(done, "/"), (method, path, done.request.path)


@pytest.mark.parametrize("target", [
    None, "", "manage/people", "/managed", "/login", "https://evil.example/manage",
    "//evil.example/manage", "/\\evil.example/manage", "/manage\\..\\login", "/manage/../login",
    "/manage/people/./..", "/manage/people/..", "javascript:alert(1)//manage",
    "/manage/people?q=x\r\nSet-Cookie: a=b", "/manage/" + "x" * 500])
def test_a_way_back_outside_the_console_is_refused(target):
    assert not returnable(target, "/manage")


@pytest.mark.parametrize("target", ["/manage", "/manage/people?q=x&page=2",
                                    "/manage/people/%CE%BC%CE%B1%CF%81%CE%AF%CE%B1"])
def test_a_way_back_to_a_console_page_is_kept(target):
    assert returnable(target, "/manage")


@pytest.mark.parametrize("page,ends_on", [
    ("//evil.example/manage", "/"), ("/logout", "/"), ("/managed", "/"),
    ("/manage/../logout", "/"), ("/account/contacts", "/account/contacts")])
def test_a_remembered_page_is_checked_again(app, make_account, page, ends_on):
    """Whatever the session holds, the way back leads only under an area that asked for it."""
    username, password = make_account()
    client = app.test_client()
    login_page = client.get("/login")
    with client.session_transaction() as stored:
        stored["after_login"] = page
    done = _log_in(client, login_page, username, password)
    assert _on(done, ends_on), done.request.path
