"""An operator the console's gate sends to log in, or to enter the authenticator code, comes
back to the console page they asked for, through a login interaction as a relying party's
user does; only to a page under /manage."""

from __future__ import annotations

import re

import pytest
from conftest import csrf_token
from mfa_helpers import code, enrol

from idp.login import interactions
from manage.access import returnable


def _hidden(page, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page.get_data(as_text=True))
    assert match, f"the page has no hidden field {name}"
    return match.group(1)


def _enter_code(client, page, app, secret: str):
    return client.post("/login/second-factor", data={
        "csrf_token": csrf_token(page), "code": code(app, secret)}, follow_redirects=True)


def _on(response, path: str, query: bytes = b"") -> bool:
    return (response.status_code, response.request.path,
            response.request.query_string) == (200, path, query)


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


def test_an_operator_sent_to_log_in_comes_back_to_the_page(app, make_operator):
    helpdesk = make_operator("helpdesk")
    client = app.test_client()
    page = client.get("/manage/people?q=mpapad", follow_redirects=True)
    assert _on(page, "/login", page.request.query_string)
    asked = client.post("/login", data={
        "csrf_token": csrf_token(page), "i": _hidden(page, "i"),
        "username": helpdesk.username, "password": helpdesk.password}, follow_redirects=True)
    assert _on(asked, "/login/second-factor")
    done = _enter_code(client, asked, app, helpdesk.secret)
    assert _on(done, "/manage/people", b"q=mpapad"), done.request.path
    back = [r.headers["Location"] for r in done.history if "/manage/resume/" in r.headers["Location"]]
    again = client.get(back[0])  # the way back serves once: then the console's index
    assert again.status_code == 303 and again.headers["Location"] == "/manage"


def test_only_a_page_is_remembered(client):
    """A form's post (no page to show again) and a path that a browser resolves outside
    /manage are not remembered: the login page is not given a way back."""
    token = csrf_token(client.get("/login"))
    for method, path in (("POST", "/manage/people/someone/disable"),
                         ("GET", "/manage/people/%2e%2e"), ("GET", "/manage/people/.%2E")):
        sent = client.open(path, method=method, data={"csrf_token": token, "reason": "x"})
        assert sent.status_code == 303 and sent.headers["Location"] == "/login", (method, path)


@pytest.mark.parametrize("target", [
    None, "", "manage/people", "/managed", "/login", "https://evil.example/manage",
    "//evil.example/manage", "/\\evil.example/manage", "/manage\\..\\login", "/manage/../login",
    "/manage/people/./..", "/manage/people/..", "javascript:alert(1)//manage",
    "/manage/people?q=x\r\nSet-Cookie: a=b", "/manage/" + "x" * 500])
def test_a_way_back_outside_the_console_is_refused(target):
    assert not returnable(target)


@pytest.mark.parametrize("target", ["/manage", "/manage/people?q=x&page=2",
                                    "/manage/people/%CE%BC%CE%B1%CF%81%CE%AF%CE%B1"])
def test_a_way_back_to_a_console_page_is_kept(target):
    assert returnable(target)


@pytest.mark.parametrize("protocol,page", [("console", "//evil.example/manage"),
                                           ("console", "/logout"), ("oidc", "/manage/people")])
def test_a_stored_way_back_is_checked_again(app, make_operator, protocol, page):
    """Only the console's own interactions lead back, and only to a page under /manage (a
    protocol's interaction is left alone for its protocol)."""
    client = make_operator("helpdesk").client()
    with app.test_request_context():
        iid = interactions.begin(protocol, {"page": page}, "manage.resume")
    sent = client.get(f"/manage/resume/{iid}")
    assert sent.status_code == 303 and sent.headers["Location"] == "/manage"
    if protocol == "oidc":
        with app.test_request_context():
            assert interactions.load(iid)["protocol"] == "oidc"
