"""Relying parties end to end, over HTTP against `kleidi serve`: an RP admin registers a SAML
SP from its metadata file and an OIDC client in the portal, an operator approves each with a
release, and independent implementations (python3-saml; openid-client under Node.js) log in
and receive exactly the approved attributes. An edit waits for review while logins keep
working; `kleidi client remove` ends the client's tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from interop import node_env
from rp_support import attribute_fields, description, email_of, rp_id_from
from saml_sp import IndependentSP
from served import kleidi_serve

from idp import db
from idp.oidc.models import OidcGrant

CALLBACK = "http://127.0.0.1:9/callback"
AFTER_LOGOUT = "http://127.0.0.1:9/signed-out"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SAML_NAMES = {"pairwise_id": "urn:oasis:names:tc:SAML:attribute:pairwise-id",
              "eppn": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
              "display_name": "urn:oid:2.16.840.1.113730.3.1.241"}


def _sign_in(browser: requests.Session, base: str, username: str, password: str) -> None:
    page = browser.get(f"{base}/login", timeout=30)
    answer = browser.post(f"{base}/login", data={
        "csrf_token": _CSRF.search(page.text).group(1), "username": username,
        "password": password, "i": ""}, headers={"Referer": f"{base}/login"}, timeout=30)
    assert answer.ok, answer.text[:300]


def _through_idp(browser, url: str, username: str, password: str, stop_at: str = ""):
    """Follow the IdP's pages (login, consent) until a redirect to ``stop_at`` (returned) or a
    page that POSTs a SAML message (returned as the response)."""
    response = browser.get(url, allow_redirects=False, timeout=30)
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if stop_at and target.startswith(stop_at):
                return target
            response = browser.get(target, allow_redirects=False, timeout=30)
            continue
        if "SAMLResponse" in response.text:
            return response
        token = _CSRF.search(response.text).group(1)
        if 'name="decision"' in response.text:
            data = {"csrf_token": token, "decision": "accept"}
        else:
            data = {"csrf_token": token, "username": username, "password": password,
                    "i": parse_qs(urlsplit(response.url).query)["i"][0]}
        action = re.search(r'<form method="post" action="([^"]+)"', response.text).group(1)
        response = browser.post(urljoin(response.url, action), data=data, allow_redirects=False,
                                timeout=30, headers={"Referer": response.url})
    raise AssertionError(f"the IdP never answered: {response.status_code} {response.text[:300]}")


def _form_post(browser, base, path, data, files=None):
    page = browser.get(f"{base}{path}", timeout=30)
    assert page.status_code == 200, page.text[:300]
    return browser.post(f"{base}{path}", data={"csrf_token": _CSRF.search(page.text).group(1),
                                               **data}, files=files, allow_redirects=False,
                        timeout=30, headers={"Referer": f"{base}{path}"})


def _cli(app, *arguments):
    result = app.test_cli_runner().invoke(args=list(arguments))
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "--json" in arguments else result.output


def _saml_login(sp, base, username, password):
    """A fresh browser logs in at the SP; python3-saml's verdict. The instance picks up a
    change of registrations within SAML_METADATA_CHECK_SECONDS: retried for a few seconds."""
    deadline = time.monotonic() + 20
    while True:
        browser = requests.Session()
        try:
            page = _through_idp(browser, sp.login_redirect(), username, password)
            break
        except AttributeError:  # an error page (the SP not known yet) has no form
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    auth = sp.accept(page.content)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    return auth


def _run_rp(node_dir, base, registered, username, password) -> dict:
    command = [node_env.node(), str(node_dir / "rp.mjs"), base, CALLBACK, "client_secret_basic",
               "RS256"]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            def send(obj):
                proc.stdin.write(json.dumps(obj) + "\n")
                proc.stdin.flush()

            def receive():
                line = proc.stdout.readline()
                assert line, proc.stderr.read()
                return json.loads(line)

            send(registered)
            step = receive()
            assert step["event"] == "authorize", step
            send({"callback": _through_idp(requests.Session(), step["url"], username, password,
                                           stop_at=CALLBACK)})
            result = receive()
            assert result["event"] == "done", result
            return result
        finally:
            proc.kill()


def _refresh_token(base, client_id, secret, username, password):
    """A code flow done by the test itself: the refresh token and access token it gets."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    url = f"{base}/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
        "scope": "openid profile", "state": "s", "code_challenge": challenge.decode(),
        "code_challenge_method": "S256"})
    back = _through_idp(requests.Session(), url, username, password, stop_at=CALLBACK)
    code = parse_qs(urlsplit(back).query)["code"][0]
    tokens = requests.post(f"{base}/oidc/token", auth=(client_id, secret), timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "code_verifier": verifier}).json()
    return tokens["refresh_token"], tokens["access_token"]


def test_register_approve_and_log_in_with_exactly_the_release(app, base_settings, tmp_path,
                                                              node_dir, make_account, outbox):
    admin, admin_password = make_account(role="staff")
    person, password = make_account()
    metadata_dir = tmp_path / "metadata"
    metadata_dir.mkdir()
    settings = {k: v for k, v in base_settings.items() if k not in ("BASE_URL", "SERVER_NAME")}
    settings.update(STORE_PREFIX=app.config["STORE_PREFIX"], METADATA_DIR=str(metadata_dir),
                    SAML_METADATA_CHECK_SECONDS=1)
    with kleidi_serve(settings, tmp_path) as server:
        base = server.base
        app.config.update(BASE_URL=base, SERVER_NAME=base.removeprefix("http://"),
                          METADATA_DIR=str(metadata_dir))
        sp = IndependentSP("library.example.org", requests.get(f"{base}/saml/metadata",
                                                                 timeout=30).text, tmp_path)
        admin_browser = requests.Session()
        _sign_in(admin_browser, base, admin, admin_password)

        # The RP admin registers the SP from its metadata file and submits it.
        saml_reasons = {"pairwise_id": "to recognise returning readers",
                        "eppn": "to match loans", "display_name": "to greet readers",
                        "email": "to send due-date reminders"}
        answer = _form_post(admin_browser, base, "/rp/new/saml", {
            **description(name_el="Βιβλιοθήκη", name_en="Library"),
            **attribute_fields(saml_reasons), "action": "submit"},
            files={"metadata_file": ("sp.xml", sp.metadata().encode(), "text/xml")})
        assert answer.status_code == 303, answer.text[:2000]
        saml_rp = rp_id_from(answer.headers["Location"])
        page = admin_browser.get(f"{base}/rp/{saml_rp}", timeout=30).text
        assert "Υποβλήθηκε" in page or "Submitted" in page

        # ... and an OIDC client: its secret is shown once.
        answer = _form_post(admin_browser, base, "/rp/new/oidc", {
            **description(name_el="Εργαστήριο", name_en="Lab"), "redirect_uris": CALLBACK,
            "post_logout_redirect_uris": AFTER_LOGOUT, "auth_method": "client_secret_basic",
            **attribute_fields({"display_name": "to greet", "email": "to write",
                                "eppn": "to log"}), "action": "submit"})
        assert answer.status_code == 200, answer.text[:2000]
        client_id = re.search(r'id="client-id">([^<]+)<', answer.text).group(1)
        secret = re.search(r'id="client-secret">([^<]+)<', answer.text).group(1)
        oidc_rp = _cli(app, "rp", "show", client_id, "--json")["id"]
        mails = outbox.to(email_of(app, admin))
        assert [m["subject"] for m in mails] == ["Η υπηρεσία Βιβλιοθήκη υποβλήθηκε για έλεγχο",
                                                  "Η υπηρεσία Εργαστήριο υποβλήθηκε για έλεγχο"]

        # Nobody can log in before the approval.
        assert requests.get(sp.login_redirect(), timeout=30).status_code >= 400

        # The operator previews and approves, leaving out what the services do not need.
        preview = _cli(app, "rp", "preview", str(saml_rp), person, "--release",
                       "pairwise_id,eppn,display_name", "--json")
        assert sorted(preview) == ["display_name", "eppn", "pairwise_id"]
        assert preview["eppn"] == [f"{person}@example.edu"]
        _cli(app, "rp", "approve", str(saml_rp), "--release", "pairwise_id,eppn,display_name",
             "--json")
        _cli(app, "rp", "approve", str(oidc_rp), "--release", "display_name,email", "--json")
        subjects = [m["subject"] for m in outbox.to(email_of(app, admin))]
        assert subjects[2:] == ["Η υπηρεσία Βιβλιοθήκη εγκρίθηκε", "Η υπηρεσία Εργαστήριο εγκρίθηκε"]

        # python3-saml receives exactly the approved attributes.
        auth = _saml_login(sp, base, person, password)
        assert set(auth.get_attributes()) == set(SAML_NAMES.values())
        assert auth.get_attributes()[SAML_NAMES["eppn"]] == [f"{person}@example.edu"]

        # openid-client receives exactly the approved claims.
        registered = {"client_id": client_id, "client_secret": secret}
        result = _run_rp(node_dir, base, registered, person, password)
        assert set(result["userinfo"]) == {"sub", "name", "email", "email_verified"}
        assert result["scope"].split() == ["openid", "profile", "email"]

        # An edit goes back to review; the approved versions keep working meanwhile.
        answer = _form_post(admin_browser, base, f"/rp/{oidc_rp}/edit", {
            **description(name_el="Εργαστήριο", name_en="Lab"), "redirect_uris": CALLBACK,
            "post_logout_redirect_uris": AFTER_LOGOUT, "auth_method": "client_secret_basic",
            **attribute_fields({"display_name": "to greet", "email": "to write",
                                "affiliation": "to tell staff from students"}),
            "action": "submit"})
        assert answer.status_code == 303, answer.text[:2000]
        shown = _cli(app, "rp", "show", str(oidc_rp), "--json")
        assert shown["state"] == "submitted" and shown["approved"] == ["display_name", "email"]
        again = _run_rp(node_dir, base, registered, person, password)
        assert set(again["userinfo"]) == {"sub", "name", "email", "email_verified"}
        assert set(_saml_login(sp, base, person, password).get_attributes()) == \
            set(SAML_NAMES.values())

        # `kleidi client remove` ends the client's refresh and access tokens.
        refresh, access = _refresh_token(base, client_id, secret, person, password)
        removed = _cli(app, "client", "remove", client_id, "--reason", "service closed", "--json")
        assert removed == {"removed": client_id}
        with app.app_context():
            grants = db.session().query(OidcGrant).filter_by(client_id=client_id).all()
            assert grants and all(g.revoked_at is not None for g in grants)
        refused = requests.post(f"{base}/oidc/token", auth=(client_id, secret), timeout=30,
                                data={"grant_type": "refresh_token", "refresh_token": refresh})
        assert refused.status_code in (400, 401)
        assert refused.json()["error"] in ("invalid_grant", "invalid_client")
        userinfo = requests.get(f"{base}/oidc/userinfo", timeout=30,
                                headers={"Authorization": f"Bearer {access}"})
        assert userinfo.status_code == 401
