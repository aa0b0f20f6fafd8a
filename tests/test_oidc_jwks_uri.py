"""private_key_jwt with keys published at the client's jwks_uri (registered in the portal):
fetched when the client authenticates, kept for OIDC_JWKS_URI_CACHE_SECONDS."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from oidc_support import REDIRECT, auth_params, pkce, query, sign_in_and_authorize

from idp import clock, db
from idp.identity import accounts
from idp.relying_parties import registration, review

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def published_keys():
    """A loopback HTTP server publishing a JWKS; ``.fetches`` counts the requests."""
    key = ECKey.generate_key("P-256", private=True)
    body = json.dumps({"keys": [key.as_dict(private=False, kid="k1", alg="ES256")]}).encode()

    class Handler(BaseHTTPRequestHandler):
        fetches = 0

        def do_GET(self):  # noqa: N802 (http.server's name)
            Handler.fetches += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, f"http://127.0.0.1:{server.server_port}/jwks.json", Handler
    server.shutdown()
    server.server_close()
    thread.join()


def _approved_client(app, make_account, jwks_uri) -> str:
    owner, _ = make_account(role="staff")
    with app.app_context():
        account = accounts.find_by_username(owner)
        rp, secret = registration.create(
            account, "oidc", {"redirect_uris": [REDIRECT], "auth_method": "private_key_jwt",
                              "jwks_uri": jwks_uri},
            {"email": "to write"}, {"el": "Εφαρμογή", "en": "App"},
            {"technical": "t@rp.example.org", "security": "s@rp.example.org"})
        assert secret is None
        registration.submit(rp, account)
        review.approve(rp, ["email"], actor="test")
        db.session().commit()
        return rp.identifier


def _exchange(client, app, login, make_account, client_id, key):
    username, password = make_account()
    verifier, challenge = pkce()
    back = query(sign_in_and_authorize(client, login, username, password,
                                       auth_params(client_id, challenge, scope="openid email")))
    with app.app_context():
        now = clock.timestamp()
    assertion = jwt.encode({"alg": "ES256", "kid": "k1"}, {
        "iss": client_id, "sub": client_id, "aud": "http://localhost/oidc/token", "iat": now,
        "exp": now + 60, "jti": secrets.token_hex(8)}, key, ["ES256"])
    return client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion})


def test_keys_at_the_jwks_uri_authenticate_the_client(app, client, login, make_account,
                                                      published_keys):
    key, jwks_uri, handler = published_keys
    client_id = _approved_client(app, make_account, jwks_uri)
    first = _exchange(client, app, login, make_account, client_id, key)
    assert first.status_code == 200, first.get_data(as_text=True)
    second = _exchange(client, app, login, make_account, client_id, key)
    assert second.status_code == 200 and handler.fetches == 1  # kept, not fetched again


def test_a_key_not_at_the_jwks_uri_is_refused(app, client, login, make_account, published_keys):
    _key, jwks_uri, _handler = published_keys
    client_id = _approved_client(app, make_account, jwks_uri)
    other = ECKey.generate_key("P-256", private=True)
    answer = _exchange(client, app, login, make_account, client_id, other)
    assert answer.get_json()["error"] == "invalid_client"
