"""An independent, certified relying party (openid-client from the npm registry, run with
Node.js) against Kleidi served on loopback: discovery, code + PKCE, ID-token validation
against the JWKS, userinfo and refresh."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests
from interop import node_env
from served import kleidi_serve, sign_in

from idp import db
from idp.oidc import clients

CALLBACK = "http://127.0.0.1:9/callback"  # never contacted: the browser stops at the redirect
AFTER_LOGOUT = "http://127.0.0.1:9/signed-out"


@pytest.fixture
def live(app, base_settings, tmp_path):
    """Kleidi served by the production command (``kleidi serve``) on loopback for one test,
    on the test run's database (and store, on Redis)."""
    settings = {k: v for k, v in base_settings.items() if k not in ("BASE_URL", "SERVER_NAME")}
    with kleidi_serve({**settings, "STORE_PREFIX": app.config["STORE_PREFIX"]},
                      tmp_path) as server:
        yield app, server.base


def _run_rp(node_dir, base, method, alg, register, username, password) -> dict:
    command = [node_env.node(), str(node_dir / "rp.mjs"), base, CALLBACK, method, alg]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            return _converse(proc, method, register, username, password)
        finally:
            proc.kill()


def _converse(proc, method, register, username, password) -> dict:
    def send(obj):
        proc.stdin.write(json.dumps(obj) + "\n")
        proc.stdin.flush()

    def receive():
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        return json.loads(line)

    jwk = receive()["jwk"] if method == "private_key_jwt" else None
    send(register(jwk))
    step = receive()
    assert step["event"] == "authorize", step
    browser = requests.Session()
    send({"callback": sign_in(browser, step["url"], username, password, stop_at=CALLBACK)})
    result = receive()
    # RP-initiated logout with the URL the library built: back to the RP, session gone.
    result["logout"] = browser.get(result["end_session_url"], allow_redirects=False, timeout=10)
    result["signed_in_after"] = not browser.get(
        result["end_session_url"].split("/oidc/")[0] + "/", allow_redirects=False,
        timeout=10).is_redirect
    assert result["event"] == "done", result
    return result


def _registrar(app, method, alg):
    def register(jwk):
        # "default": registered without an auth method, as `kleidi client add` does
        registered = {} if method == "default" else {"auth_method": method,
                                                     "strict_auth_method": True}
        with app.app_context():
            row, secret = clients.add_client(
                redirect_uris=[CALLBACK], **registered, name="openid-client",
                id_token_alg=alg, post_logout_redirect_uris=[AFTER_LOGOUT],
                scopes=["openid", "profile", "email", "eduperson"],
                jwks={"keys": [jwk]} if jwk else None)
            db.session().commit()
            return {"client_id": row.client_id, "client_secret": secret}
    return register


@pytest.mark.parametrize("method, alg", [
    ("default", "RS256"), ("client_secret_basic", "RS256"), ("client_secret_post", "RS256"),
    ("private_key_jwt", "RS256"), ("none", "RS256"), ("client_secret_basic", "ES256"),
])
def test_certified_rp_completes_code_flow_userinfo_and_refresh(node_dir, live, make_account,
                                                               method, alg):
    app, base = live
    username, password = make_account()
    result = _run_rp(node_dir, base, method, alg, _registrar(app, method, alg), username,
                     password)
    claims = result["claims"]
    assert claims["iss"] == base and claims["auth_time"] and claims["nonce"]
    assert result["header"]["kid"] and result["header"]["alg"] == alg
    assert result["userinfo"]["sub"] == claims["sub"]
    assert result["userinfo"]["preferred_username"] == f"{username}@example.edu"
    assert "student" in result["userinfo"]["eduperson_affiliation"]
    assert result["refreshed"] == {"new_refresh_token": True, "new_access_token": True,
                                   "expires_in": app.config["OIDC_ACCESS_TOKEN_TTL_SECONDS"]}
    assert result["userinfo_after_refresh"] == result["userinfo"]
    assert result["logout"].headers["Location"] == AFTER_LOGOUT + "?state=bye"
    assert result["signed_in_after"] is False
