"""The production server, ``kleidi serve``, run for real: the code flow and logout through it,
connections kept alive, and an access log that never holds a query string."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from conftest import REDIS_URL
from oidc_support import REDIRECT, auth_params, pkce, register
from served import KLEIDI, kleidi_serve, sign_in

AFTER = "https://rp.example.org/goodbye"


@pytest.fixture
def served(app, base_settings, tmp_path):
    settings = {k: v for k, v in base_settings.items() if k not in ("BASE_URL", "SERVER_NAME")}
    with kleidi_serve({**settings, "STORE_PREFIX": app.config["STORE_PREFIX"]},
                      tmp_path) as server:
        yield server


def _requests_logged(served, *expected: str) -> list[str]:
    """The access log's request lines, once a line holds each of ``expected`` (a line is
    written just after its answer goes out)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in served.output().splitlines()
                 if '"GET /' in line or '"POST /' in line]
        if all(any(e in line for line in lines) for e in expected) or (
                time.monotonic() > deadline):
            return lines
        time.sleep(0.05)


def _id_token(app, served, make_account) -> tuple[dict, list[str]]:
    """A person signs in to a relying party through the server: its token response, and the
    values that travelled in query strings on the way."""
    username, password = make_account()
    client_id, secret = register(app, post_logout_redirect_uris=[AFTER])
    verifier, challenge = pkce()
    params = auth_params(client_id, challenge)
    browser = requests.Session()
    back = sign_in(browser, served.base + "/oidc/authorize?" + urlencode(params), username,
                   password, stop_at=REDIRECT)
    code = parse_qs(urlsplit(back).query)["code"][0]
    token = requests.post(served.base + "/oidc/token", auth=(client_id, secret), timeout=30,
                          data={"grant_type": "authorization_code", "code": code,
                                "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    return token.json(), [code, params["state"], params["nonce"], challenge]


def test_access_log_holds_paths_but_no_query_strings(app, served, make_account):
    token, secrets = _id_token(app, served, make_account)
    logout = requests.get(served.base + "/oidc/logout?" + urlencode({
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": AFTER,
        "state": "bye-state-1"}), allow_redirects=False, timeout=30)
    assert logout.status_code == 302 and logout.headers["Location"] == AFTER + "?state=bye-state-1"
    saml = requests.get(served.base + "/saml/sso/redirect?" + urlencode({
        "SAMLRequest": "c2FtbC1yZXF1ZXN0LXZhbHVl", "RelayState": "relay-value-1",
        "SigAlg": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "Signature": "c2lnbmF0dXJlLXZhbHVl"}), timeout=30)
    assert saml.status_code == 400
    expected = ('"POST /oidc/token HTTP/1.1" 200', '"GET /oidc/logout HTTP/1.1" 302',
                '"GET /saml/sso/redirect HTTP/1.1" 400')
    lines = _requests_logged(served, *expected)
    for request in expected:
        assert any(request in line for line in lines), (request, lines)
    assert not [line for line in lines if "?" in line]
    log = served.output()
    for value in [token["id_token"], *secrets, "bye-state-1", "id_token_hint", "SAMLRequest",
                  "c2FtbC1yZXF1ZXN0LXZhbHVl", "relay-value-1", "Signature",
                  "c2lnbmF0dXJlLXZhbHVl"]:
        assert value not in log


def test_logout_takes_the_id_token_hint_by_post_too(app, served, make_account):
    """OIDC RP-Initiated Logout 1.0 §2: the request may be a form post, which keeps the ID
    token out of every URL."""
    token, _ = _id_token(app, served, make_account)
    logout = requests.post(served.base + "/oidc/logout", data={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": AFTER,
        "state": "bye-state-2"}, allow_redirects=False, timeout=30)
    assert logout.status_code == 302 and logout.headers["Location"] == AFTER + "?state=bye-state-2"
    posted = '"POST /oidc/logout HTTP/1.1" 302'
    assert any(posted in line for line in _requests_logged(served, posted))
    assert token["id_token"] not in served.output()


def test_connections_are_kept_alive_and_paths_cannot_forge_log_lines(served):
    connection = http.client.HTTPConnection(served.base.removeprefix("http://"), timeout=30)
    connection.request("GET", "/healthz")
    first = connection.getresponse()
    first.read()
    opened = connection.sock
    connection.request("GET", "/no-such-page%0A127.0.0.1%20-%20%22GET%20/forged")
    second = connection.getresponse()
    second.read()
    assert first.status == 200 and second.status == 404
    assert connection.sock is opened  # the same connection answered both
    connection.close()
    escaped = '"GET /no-such-page%0A127.0.0.1%20-%20%22GET%20/forged HTTP/1.1" 404'
    lines = _requests_logged(served, escaped)
    assert any(escaped in line for line in lines), lines
    assert not [line for line in lines if line.startswith('127.0.0.1 - "GET /forged')]


def test_several_workers_share_state_through_redis_only(app, base_settings, tmp_path):
    """With Redis two workers serve; without it ``kleidi serve`` refuses to start them, since
    sessions and PINs in one process's memory would not be seen by the other."""
    settings = {k: v for k, v in base_settings.items() if k not in ("BASE_URL", "SERVER_NAME")}
    if REDIS_URL:
        with kleidi_serve({**settings, "STORE_PREFIX": app.config["STORE_PREFIX"]}, tmp_path,
                          "--workers", "2") as server:
            assert requests.get(server.base + "/readyz", timeout=30).status_code == 200
            deadline = time.monotonic() + 60  # the first worker may answer before the second starts
            while server.output().count("Started worker") < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert server.output().count("Started worker") == 2
        return
    refused = subprocess.run([str(KLEIDI), "serve", "--workers", "2", "--port", "9"],
                             capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/bin:/bin", "KLEIDI_ENV": "testing",
                                  **{f"KLEIDI_{k}": str(v) for k, v in settings.items()}})
    assert refused.returncode == 2 and "KLEIDI_REDIS_URL" in refused.stderr


def test_a_worker_that_dies_is_started_again_and_serves_at_once(app, served, make_account):
    """Workers are forked from the app ``kleidi serve`` built before serving: one killed
    mid-flight is replaced by a fork of the same build, which opens database connections of
    its own and serves the whole code flow."""
    spawned = re.compile(r"Spawning worker-1 with PID: (\d+)")
    first = spawned.findall(served.output())
    assert len(first) == 1, served.output()
    os.kill(int(first[0]), signal.SIGKILL)
    deadline = time.monotonic() + 60
    while served.output().count("Started worker-1") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = spawned.findall(served.output())
    assert len(pids) == 2 and pids[1] != pids[0], served.output()
    token, _travelled = _id_token(app, served, make_account)
    assert token["token_type"] == "Bearer" and token["id_token"].count(".") == 2


def test_production_server_without_signing_keys_stops_saying_what_to_run(base_settings,
                                                                           tmp_path):
    """A worker checks the OIDC signing keys before its first request, not when the first
    token is signed; without them ``kleidi serve`` stops instead of serving."""
    from idp import keys

    keys.ensure_dev_keys(tmp_path)  # the SAML key pairs; no OIDC keys
    settings = {**base_settings, "ENV": "production", "BASE_URL": "https://idp.example.edu",
                "KEYS_DIR": str(tmp_path), "SMTP_URL": "smtp://127.0.0.1:1",
                "SMS_HTTP_URL": "https://sms.example.edu/send", "MFA_SECRET_KEY": "test mfa key"}
    stopped = subprocess.run(
        [str(KLEIDI), "serve", "--port", "9"], capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", **{f"KLEIDI_{k}": str(v) for k, v in settings.items()}})
    assert stopped.returncode != 0
    assert "kleidi keys rotate" in stopped.stdout + stopped.stderr
