"""With the OpenID Connect provider: a client asking for REFEDS MFA gets it only after the
second step, and a password reset ends the refresh tokens issued before it."""

from urllib.parse import parse_qs, urlencode, urlsplit

import oidc_support
from mfa_helpers import code, enrol, second_step
from recovery_helpers import recover

from idp import mfa

MOBILE = "+306912345678"


def _authorize(client, login, csrf, app, username, password, params, secret=None):
    """Log in from an authorization request (with the second step when enrolled)."""
    first = client.get("/oidc/authorize?" + urlencode(params))
    iid = parse_qs(urlsplit(first.location).query)["i"][0]
    after = login(client, username, password, iid)
    if secret is not None:
        assert after.location.endswith("/login/second-factor")
        after = second_step(client, csrf, code(app, secret))
    return oidc_support.query(oidc_support.browse(client, after))


def _tokens(client, back, verifier, client_id, secret):
    data = {"grant_type": "authorization_code", "code": back["code"],
            "redirect_uri": oidc_support.REDIRECT, "code_verifier": verifier}
    response = oidc_support.token_request(client, data, client_id, secret)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_refeds_mfa_only_after_the_second_step(app, client, clock, csrf, login, make_account):
    username, password = make_account()
    secret, _codes = enrol(app, clock, username)
    client_id, client_secret = oidc_support.register(app)
    verifier, challenge = oidc_support.pkce()
    params = oidc_support.auth_params(client_id, challenge, acr_values=mfa.REFEDS_MFA)
    back = _authorize(client, login, csrf, app, username, password, params, secret)
    token = _tokens(client, back, verifier, client_id, client_secret)
    claims = oidc_support.id_token_claims(client, token["id_token"])
    assert claims["acr"] == mfa.REFEDS_MFA and "otp" in claims["amr"]


def test_without_a_second_factor_the_id_token_never_says_mfa(app, client, csrf, login,
                                                            make_account):
    username, password = make_account()
    client_id, client_secret = oidc_support.register(app)
    verifier, challenge = oidc_support.pkce()
    params = oidc_support.auth_params(client_id, challenge, acr_values=mfa.REFEDS_MFA)
    back = _authorize(client, login, csrf, app, username, password, params)
    if "error" in back:  # refusing is as good as not claiming
        return
    token = _tokens(client, back, verifier, client_id, client_secret)
    assert oidc_support.id_token_claims(client, token["id_token"])["acr"] != mfa.REFEDS_MFA


def test_a_password_reset_ends_refresh_tokens(app, client, csrf, login, outbox, make_account):
    username, password = make_account(mobile=MOBILE)
    client_id, client_secret = oidc_support.register(app)
    token, _, _ = oidc_support.code_flow(client, login, app, username=username,
                                         password=password, client_id=client_id,
                                         secret=client_secret)
    assert token["refresh_token"]
    recover(app.test_client(), csrf, outbox, username, MOBILE, mobile="6912345678")
    refreshed = oidc_support.token_request(
        client, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        client_id, client_secret)
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"
