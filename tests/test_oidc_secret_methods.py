"""A client with a secret may send it with HTTP Basic or in the form body unless its
registration holds it to one method; a refusal names no method and no client."""

import json

import pytest
from oidc_support import (
    REDIRECT,
    auth_params,
    pkce,
    query,
    register,
    sign_in_and_authorize,
    token_request,
)

from idp.oidc import clients

FAILED = "Client authentication failed."


def exchange(client, login, make_account, client_id, secret, how):
    """A code exchange authenticated with the secret sent as ``how`` ("basic" or "post")."""
    username, password = make_account()
    verifier, challenge = pkce()
    back = query(sign_in_and_authorize(client, login, username, password,
                                       auth_params(client_id, challenge)))
    data = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    if how == "post":
        return client.post("/oidc/token", data={**data, "client_id": client_id,
                                                "client_secret": secret})
    return token_request(client, data, client_id, secret)


@pytest.mark.parametrize("how", ["basic", "post"])
def test_a_client_registered_without_a_method_may_use_either(app, client, login, make_account,
                                                             how):
    client_id, secret = register(app)
    response = exchange(client, login, make_account, client_id, secret, how)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["id_token"]


@pytest.mark.parametrize("held_to, other", [("client_secret_basic", "post"),
                                            ("client_secret_post", "basic")])
def test_a_client_held_to_one_method_refuses_the_other(app, client, login, make_account,
                                                       held_to, other):
    client_id, secret = register(app, auth_method=held_to, strict_auth_method=True)
    refused = exchange(client, login, make_account, client_id, secret, other)
    assert refused.status_code in (400, 401)
    assert refused.get_json() == {"error": "invalid_client", "error_description": FAILED}
    same = "post" if other == "basic" else "basic"
    assert exchange(app.test_client(), login, make_account, client_id, secret,
                    same).status_code == 200


def test_refusals_name_no_method_and_do_not_tell_unknown_clients_apart(app, client, login,
                                                                       make_account):
    client_id, secret = register(app)
    wrong = exchange(client, login, make_account, client_id, "not the secret", "basic")
    unknown = app.test_client().post("/oidc/token", data={
        "grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT,
        "client_id": "no-such-client", "client_secret": "x"})
    for refused in (wrong, unknown):
        body = refused.get_data(as_text=True)
        assert refused.get_json()["error"] == "invalid_client", body
        assert refused.get_json()["error_description"] == FAILED
        assert "client_secret" not in body and "private_key_jwt" not in body


def test_kleidi_client_add_holds_a_client_only_when_a_method_is_named(app):
    runner = app.test_cli_runner()
    free = runner.invoke(args=["client", "add", "--json", "--redirect-uri", REDIRECT])
    held = runner.invoke(args=["client", "add", "--json", "--redirect-uri", REDIRECT,
                               "--auth-method", "client_secret_post"])
    assert free.exit_code == 0 and held.exit_code == 0, free.output + held.output
    with app.app_context():
        rows = [clients.find(json.loads(result.output)["client_id"]) for result in (free, held)]
        assert [(r.auth_method, r.strict_auth_method) for r in rows] == [
            ("client_secret_basic", False), ("client_secret_post", True)]
