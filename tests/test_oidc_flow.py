"""The authorization code flow end to end, as a confidential relying party sees it."""

from oidc_support import code_flow, id_token_claims, register


def test_discovery_advertises_code_flow_with_pkce_and_iss(client):
    doc = client.get("/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == "http://localhost"
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["subject_types_supported"] == ["pairwise"]
    assert set(doc["id_token_signing_alg_values_supported"]) == {"RS256", "ES256"}
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
    assert doc["jwks_uri"] == "http://localhost/oidc/jwks"


def test_code_flow_issues_signed_id_token_with_nonce_and_state(app, client, login, make_account):
    username, password = make_account()
    client_id, secret = register(app)
    token, params, back = code_flow(client, login, app, username=username, password=password,
                                    client_id=client_id, secret=secret)
    assert back["state"] == params["state"]
    assert back["iss"] == "http://localhost"
    claims = id_token_claims(client, token["id_token"])
    assert claims["iss"] == "http://localhost"
    assert claims["aud"] == [client_id]
    assert claims["nonce"] == params["nonce"]
    assert claims["auth_time"] <= claims["iat"]
    assert token["token_type"] == "Bearer" and token["refresh_token"]


def test_id_token_says_who_and_how_userinfo_says_the_rest(app, client, login, make_account):
    username, password = make_account(role="undergraduate")
    client_id, secret = register(app)
    token, _, _ = code_flow(client, login, app, username=username, password=password,
                            client_id=client_id, secret=secret,
                            scope="openid profile email eduperson schac")
    claims = id_token_claims(client, token["id_token"])
    assert claims["acr"] == "https://refeds.org/profile/sfa" and claims["amr"] == ["pwd"]
    assert claims["sid"] and claims["at_hash"] and claims["azp"] == client_id
    # OIDC Core 5.4: an access token was issued, so scope claims come from userinfo only
    assert "preferred_username" not in claims and "eduperson_affiliation" not in claims
    info = client.get("/oidc/userinfo",
                      headers={"Authorization": "Bearer " + token["access_token"]}).get_json()
    assert info["sub"] == claims["sub"]
    assert info["preferred_username"] == f"{username}@example.edu"
    assert set(info["eduperson_affiliation"]) == {"member", "student"}
    assert info["schac_personal_unique_code"] == [
        "urn:mace:terena.org:schac:personalUniqueCode:gr:example.edu:1512:00012345"]
