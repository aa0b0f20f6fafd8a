"""private_key_jwt: a client proves itself with a signed assertion, each usable once."""

import secrets

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from oidc_support import REDIRECT, auth_params, pkce, query, register, sign_in_and_authorize

from idp import clock

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def key():
    return ECKey.generate_key("P-256", private=True)


@pytest.fixture
def rp(app, key):
    jwks = {"keys": [key.as_dict(private=False, kid="k1", alg="ES256")]}
    client_id, secret = register(app, auth_method="private_key_jwt", jwks=jwks)
    assert secret is None
    return client_id


def _assertion(app, client_id, key, **override):
    with app.app_context():
        now = clock.timestamp()
    claims = {"iss": client_id, "sub": client_id, "aud": "http://localhost/oidc/token",
              "iat": now, "exp": now + 60, "jti": secrets.token_hex(8), **override}
    return jwt.encode({"alg": "ES256", "kid": "k1"}, claims, key, ["ES256"])


def _exchange(client, app, login, make_account, rp, assertion):
    username, password = make_account()
    verifier, challenge = pkce()
    back = query(sign_in_and_authorize(client, login, username, password,
                                       auth_params(rp, challenge)))
    return client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion})


def test_private_key_jwt_authenticates(app, client, login, make_account, rp, key):
    response = _exchange(client, app, login, make_account, rp, _assertion(app, rp, key))
    assert response.status_code == 200 and response.get_json()["id_token"]


def test_replayed_jti_is_refused(app, client, login, make_account, rp, key):
    assertion = _assertion(app, rp, key)
    assert _exchange(client, app, login, make_account, rp, assertion).status_code == 200
    other = app.test_client()
    again = _exchange(other, app, login, make_account, rp, assertion)
    # RFC 6749 5.2: 401 only where the client used the Authorization header; this one did not
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_client"


def test_assertion_signed_by_another_key_is_refused(app, client, login, make_account, rp):
    stranger = ECKey.generate_key("P-256", private=True)
    response = _exchange(client, app, login, make_account, rp, _assertion(app, rp, stranger))
    assert response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("override", [
    {"aud": "https://elsewhere.example.org/token"},
    {"exp": 1},
    {"exp": 2**31},  # valid for longer than its jti would be remembered
    {"iss": "someone-else"},
])
def test_bad_assertion_claims_are_refused(app, client, login, make_account, rp, key, override):
    response = _exchange(client, app, login, make_account, rp,
                         _assertion(app, rp, key, **override))
    assert response.get_json()["error"] == "invalid_client"


def test_secret_is_not_accepted_for_a_key_client(app, client, login, make_account, rp):
    username, password = make_account()
    back = query(sign_in_and_authorize(client, login, username, password, auth_params(rp)))
    response = client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
        "client_id": rp})
    assert response.get_json()["error"] == "invalid_client"
