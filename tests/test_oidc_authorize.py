"""The authorization endpoint's refusals and prompts, as a browser and an RP see them."""

from urllib.parse import urlencode

import pytest
from oidc_support import (
    REDIRECT,
    auth_params,
    browse,
    code_flow,
    pkce,
    query,
    register,
    sign_in_and_authorize,
    token_request,
)

from idp import db
from idp.identity import accounts


def _authorize(client, params):
    return client.get("/oidc/authorize?" + urlencode(params))


@pytest.mark.parametrize("uri", [
    REDIRECT + "/extra",                       # extra path
    REDIRECT + "?next=/",                      # added query
    REDIRECT + "#frag",                        # fragment
    "https://RP.example.org/callback",         # case of the host
    "https://rp.example.org/Callback",         # case of the path
    "https://rp.example.org:8443/callback",    # port
    "https://rp.example.org/callback/",        # trailing slash
    "http://rp.example.org/callback",          # scheme
])
def test_redirect_uri_must_match_exactly_or_error_page_without_redirect(app, client, uri):
    client_id, _ = register(app)
    _, challenge = pkce()
    response = _authorize(client, auth_params(client_id, challenge, redirect_uri=uri))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "OIDC-002" in response.get_data(as_text=True)


def test_missing_redirect_uri_is_an_error_page(app, client):
    client_id, _ = register(app)
    response = _authorize(client, auth_params(client_id, redirect_uri=None))
    assert response.status_code == 400 and "Location" not in response.headers


def test_unknown_client_is_an_error_page(client):
    response = _authorize(client, auth_params("no-such-client"))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "OIDC-001" in response.get_data(as_text=True)


def test_public_client_without_pkce_gets_invalid_request_with_iss(app, client):
    client_id, _ = register(app, auth_method="none")
    params = auth_params(client_id)
    back = query(_authorize(client, params))
    assert back["error"] == "invalid_request"
    assert back["state"] == params["state"] and back["iss"] == "http://localhost"


@pytest.mark.parametrize("method", ["plain", None])
def test_plain_pkce_is_refused(app, client, method):
    client_id, _ = register(app, auth_method="none")
    verifier, _ = pkce()
    params = auth_params(client_id, code_challenge=verifier, code_challenge_method=method)
    assert query(_authorize(client, params))["error"] == "invalid_request"


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token"])
def test_no_implicit_or_hybrid_flow(app, client, response_type):
    client_id, _ = register(app)
    back = query(_authorize(client, auth_params(client_id, response_type=response_type)))
    assert back["error"] == "unsupported_response_type"


def test_no_password_grant(app, client, make_account):
    username, password = make_account()
    client_id, secret = register(app)
    response = token_request(client, {"grant_type": "password", "username": username,
                                      "password": password}, client_id, secret)
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_scope_without_openid_is_refused(app, client):
    client_id, _ = register(app)
    back = query(_authorize(client, auth_params(client_id, scope="profile")))
    assert back["error"] == "invalid_scope"


def test_prompt_none_without_session_is_login_required(app, client):
    client_id, _ = register(app)
    params = auth_params(client_id, prompt="none")
    back = query(_authorize(client, params))
    assert back["error"] == "login_required" and back["state"] == params["state"]
    assert back["iss"] == "http://localhost"


def test_prompt_none_with_session_but_no_consent_is_consent_required(
        app, client, login, make_account):
    username, password = make_account()
    login(client, username, password)
    client_id, _ = register(app)
    assert query(_authorize(client, auth_params(client_id, prompt="none")))[
        "error"] == "consent_required"


def test_remembered_consent_gives_a_code_silently(app, client, login, make_account):
    username, password = make_account()
    client_id, _ = register(app)
    assert "code" in query(sign_in_and_authorize(client, login, username, password,
                                                 auth_params(client_id)))
    assert "code" in query(_authorize(client, auth_params(client_id, prompt="none")))


def test_declined_consent_is_access_denied(app, client, login, make_account):
    username, password = make_account()
    client_id, _ = register(app)
    params = auth_params(client_id)
    back = query(sign_in_and_authorize(client, login, username, password, params,
                                       consent="decline"))
    assert back["error"] == "access_denied" and back["state"] == params["state"]


def test_prompt_consent_asks_again(app, client, login, make_account):
    username, password = make_account()
    client_id, _ = register(app)
    query(sign_in_and_authorize(client, login, username, password, auth_params(client_id)))
    page = browse(client, _authorize(client, auth_params(client_id, prompt="consent")),
                  consent=None)
    assert page.status_code == 200 and b'name="decision"' in page.data
    assert "Μαρία" in page.get_data(as_text=True)  # the values are shown


def test_prompt_login_forces_a_new_login(app, client, login, make_account):
    username, password = make_account()
    client_id, _ = register(app)
    query(sign_in_and_authorize(client, login, username, password, auth_params(client_id)))
    response = _authorize(client, auth_params(client_id, prompt="login"))
    assert response.status_code == 302 and "/login" in response.location


def test_max_age_exceeded_forces_login(app, client, login, make_account, clock):
    username, password = make_account()
    client_id, _ = register(app)
    query(sign_in_and_authorize(client, login, username, password, auth_params(client_id)))
    clock.advance(120)
    assert "code" in query(_authorize(client, auth_params(client_id, max_age="300")))
    response = _authorize(client, auth_params(client_id, max_age="60"))
    assert response.status_code == 302 and "/login" in response.location


def test_ui_locales_and_login_hint_reach_the_login_page(app, client):
    client_id, _ = register(app)
    response = _authorize(client, auth_params(client_id, ui_locales="en-GB el",
                                              login_hint="maria@example.edu"))
    page = client.get(response.location)
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert 'value="maria"' in html


def test_greek_is_the_default_language(app, client):
    client_id, _ = register(app)
    page = client.get(_authorize(client, auth_params(client_id)).location)
    assert '<html lang="el">' in page.get_data(as_text=True)


def test_state_is_echoed_on_success(app, client, login, make_account):
    username, password = make_account()
    client_id, _ = register(app)
    params = auth_params(client_id, state="xyz 123/&")
    back = query(sign_in_and_authorize(client, login, username, password, params))
    assert back["state"] == "xyz 123/&" and back["iss"] == "http://localhost"


def test_error_page_speaks_greek_by_default(app, client):
    response = _authorize(client, auth_params("no-such-client"))
    assert "Άγνωστη υπηρεσία" in response.get_data(as_text=True)


@pytest.mark.parametrize("name, error", [("request", "request_not_supported"),
                                         ("request_uri", "request_uri_not_supported")])
def test_request_objects_are_refused_at_the_client(app, client, name, error):
    client_id, _ = register(app)
    params = auth_params(client_id, **{name: "eyJhbGciOiJub25lIn0.e30."})
    back = query(_authorize(client, params))
    assert back["error"] == error and back["state"] == params["state"]


def test_malformed_max_age_is_invalid_request(app, client):
    client_id, _ = register(app)
    assert query(_authorize(client, auth_params(client_id, max_age="soon")))[
        "error"] == "invalid_request"


def test_repeated_parameters_are_an_error_page(app, client):
    client_id, _ = register(app)
    query_string = urlencode(auth_params(client_id)) + "&client_id=" + client_id
    response = client.get("/oidc/authorize?" + query_string)
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("mode", ["fragment", "form_post"])
def test_only_query_response_mode(app, client, mode):
    client_id, _ = register(app)
    assert query(_authorize(client, auth_params(client_id, response_mode=mode)))[
        "error"] == "invalid_request"


def test_id_token_hint_of_someone_else_needs_a_login(app, client, login, make_account):
    first, second = make_account(), make_account()
    client_id, secret = register(app)
    other_browser = app.test_client()
    token, _, _ = code_flow(other_browser, login, app, username=second[0], password=second[1],
                            client_id=client_id, secret=secret)
    query(sign_in_and_authorize(client, login, *first, auth_params(client_id)))
    hinted = auth_params(client_id, prompt="none", id_token_hint=token["id_token"])
    assert query(_authorize(client, hinted))["error"] == "login_required"
    mine, _, _ = code_flow(client, login, app, username=first[0], password=first[1],
                           client_id=client_id, secret=secret)
    assert "code" in query(_authorize(client, auth_params(
        client_id, prompt="none", id_token_hint=mine["id_token"])))


def test_forged_id_token_hint_is_invalid_request(app, client, login, make_account):
    person = make_account()
    client_id, _ = register(app)
    query(sign_in_and_authorize(client, login, *person, auth_params(client_id)))
    back = query(_authorize(client, auth_params(client_id, id_token_hint="e30.e30.AAAA")))
    assert back["error"] == "invalid_request"


def test_prompt_none_never_shows_a_page_when_the_account_needs_attention(
        app, client, login, make_account):
    username, password = make_account()
    client_id, _ = register(app)
    query(sign_in_and_authorize(client, login, username, password, auth_params(client_id)))
    with app.app_context():
        accounts.find_by_username(username).must_change_password = True
        db.session().commit()
    back = query(_authorize(client, auth_params(client_id, prompt="none")))
    assert back["error"] == "interaction_required" and back["iss"] == "http://localhost"


def test_consent_shows_the_values_of_whoever_signs_in(app, client, login, make_account):
    first = make_account(registration="00011111")
    second = make_account(registration="00022222")
    client_id, _ = register(app, scopes=["openid", "schac"])
    query(sign_in_and_authorize(client, login, *first, auth_params(client_id, scope="openid")))
    response = _authorize(client, auth_params(client_id, scope="openid schac", prompt="login"))
    iid = response.location.split("i=")[1]
    page = browse(client, login(client, *second, iid), consent=None)
    html = page.get_data(as_text=True)
    assert "00022222" in html and "00011111" not in html
