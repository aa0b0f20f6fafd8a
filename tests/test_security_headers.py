"""Every response carries the security headers: a content security policy that forbids framing
(the SAML logout frames excepted: this site only) and inline scripts without the response's
nonce, nosniff, a referrer policy, and HSTS when the IdP is served over https.

The routes come from the app's URL map, so a new page cannot miss the headers."""

import re

import pytest
from saml_sp import follow, path_and_query
from werkzeug.routing import ValidationError

from idp.config import ROOT

pytest_plugins = ("saml_fixtures",)

METHODS = ("GET", "POST")


def _path(rule) -> str:
    """A path for ``rule`` with made-up values (the page behind it may well be an error)."""
    for sample in ("x", 0):
        try:
            return rule.build(dict.fromkeys(rule.arguments, sample))[1]
        except (ValidationError, ValueError):
            continue
    raise AssertionError(f"cannot build {rule.rule}")


def _directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def _check(response, where) -> None:
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                 "Referrer-Policy"):
        assert len(response.headers.getlist(name)) == 1, (name, where)
    directives = _directives(response)
    framing = directives["frame-ancestors"]
    assert framing in ("'none'", "'self'"), where
    assert response.headers["X-Frame-Options"] == ("DENY" if framing == "'none'" else "SAMEORIGIN")
    assert response.headers["X-Content-Type-Options"] == "nosniff", where
    assert response.headers["Referrer-Policy"] == "same-origin", where
    assert directives["default-src"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"], where
    assert "Strict-Transport-Security" not in response.headers, where  # BASE_URL is http


def test_every_route_in_the_url_map_carries_the_headers(app, make_account, login):
    username, password = make_account()
    html, seen = set(), set()
    for signed_in in (False, True):
        client = app.test_client()
        for rule in app.url_map.iter_rules():
            for method in sorted(set(METHODS) & rule.methods):
                if signed_in and client.get_cookie("kleidi_session") is None:
                    login(client, username, password)  # (again, if a page ended the session)
                response = client.open(_path(rule), method=method)
                _check(response, (method, rule.rule, signed_in))
                seen.add(rule.rule)
                if response.mimetype == "text/html":
                    html.add(rule.rule)
    assert seen == {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/login", "/", "/logout", "/saml/logout", "/account"} <= html
    assert len(html) >= 30


def test_hsts_only_when_served_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["BASE_URL"] = "https://localhost"
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get("/healthz", base_url="https://localhost").headers[
        "Strict-Transport-Security"] == "max-age=31536000"


def test_the_post_binding_page_runs_its_script_by_its_own_nonce(make_sp, client, csrf,
                                                                 make_account, login):
    username, password = make_account()
    login(client, username, password)
    sp = make_sp("sp1.example.org")
    nonces = []
    for _ in range(2):
        page = follow(client, client.get(path_and_query(sp.login_redirect())), csrf)
        script_nonce = re.search(r'<script nonce="([^"]+)">document\.forms\[0\]\.submit\(\)</script>',
                                 page.get_data(as_text=True)).group(1)
        assert _directives(page)["script-src"] == f"'self' 'nonce-{script_nonce}'"
        assert "onload" not in page.get_data(as_text=True)
        nonces.append(script_nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 22


def test_the_logout_page_frames_only_this_site_and_the_services(make_sp, client, csrf,
                                                                make_account, login):
    username, password = make_account()
    login(client, username, password)
    sps = [make_sp(host) for host in ("one.example.org", "two.example.org")]
    for sp in sps:
        follow(client, client.get(path_and_query(sp.login_redirect())), csrf)
    page = client.post("/saml/logout", data={"csrf_token": csrf(client.get("/saml/logout"))})
    assert page.status_code == 200 and "<iframe" in page.get_data(as_text=True)
    directives = _directives(page)
    assert directives["frame-src"] == "'self' https://one.example.org https://two.example.org"
    assert directives["frame-ancestors"] == "'none'"
    frame = re.search(r'<iframe title="[^"]*" src="([^"]+)"', page.get_data(as_text=True)).group(1)
    inside = client.get(frame)
    assert _directives(inside)["frame-ancestors"] == "'self'"
    assert inside.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.html")),
                         ids=lambda path: str(path.relative_to(ROOT / "templates")))
def test_no_template_needs_inline_code_the_policy_forbids(path):
    """Inline event handlers and style attributes cannot carry a nonce: none may exist."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"\sstyle\s*=", text) and "<style" not in text, "inline style"
    assert "javascript:" not in text
    for tag in re.findall(r"<script[^>]*>", text):
        assert "nonce=" in tag or "src=" in tag, tag
