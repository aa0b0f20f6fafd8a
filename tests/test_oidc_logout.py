"""RP-initiated and back-channel logout."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode

import pytest
from conftest import csrf_token
from joserfc import jwt
from joserfc.jwk import KeySet
from oidc_support import code_flow, register, token_request

AFTER = "https://rp.example.org/goodbye"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def receiver():
    """A relying party's back-channel logout endpoint on loopback, recording what it gets."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append((self.headers["Content-Type"], parse_qs(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/backchannel", received
    server.shutdown()
    server.server_close()


def _signed_in(app, client, login, make_account, **settings):
    person = make_account()
    client_id, secret = register(app, post_logout_redirect_uris=[AFTER], **settings)
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=client_id, secret=secret)
    return client_id, secret, token


def _signed_out(client):
    response = client.get("/")
    return response.status_code == 302 and "/login" in response.location


def test_logout_with_id_token_hint_redirects_to_registered_uri(app, client, login, make_account):
    client_id, _, token = _signed_in(app, client, login, make_account)
    response = client.get("/oidc/logout?" + urlencode({
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": AFTER, "state": "s1"}))
    assert response.status_code == 302 and response.location == AFTER + "?state=s1"
    assert _signed_out(client)


def test_logout_takes_the_id_token_hint_in_a_form_post(app, client, login, make_account):
    """RP-Initiated Logout 1.0 §2 allows POST: the ID token stays out of URLs and logs."""
    _, _, token = _signed_in(app, client, login, make_account)
    response = client.post("/oidc/logout", data={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": AFTER, "state": "s2"})
    assert response.status_code == 302 and response.location == AFTER + "?state=s2"
    assert _signed_out(client)


def test_unregistered_post_logout_uri_is_not_followed(app, client, login, make_account):
    _, _, token = _signed_in(app, client, login, make_account)
    response = client.get("/oidc/logout?" + urlencode({
        "id_token_hint": token["id_token"],
        "post_logout_redirect_uri": "https://evil.example.net/"}))
    assert response.status_code == 200 and "Location" not in response.headers
    assert _signed_out(client)


def test_logout_without_hint_asks_first(app, client, login, make_account):
    client_id, _, _ = _signed_in(app, client, login, make_account)
    page = client.get("/oidc/logout?" + urlencode({"client_id": client_id}))
    assert page.status_code == 200 and not _signed_out(client)
    done = client.post("/oidc/logout/confirm", data={"csrf_token": csrf_token(page),
                                                     "client_id": client_id})
    assert done.status_code == 200 and _signed_out(client)


def test_confirmation_needs_the_form_token(app, client, login, make_account):
    client_id, _, _ = _signed_in(app, client, login, make_account)
    response = client.post("/oidc/logout/confirm", data={"client_id": client_id})
    assert response.status_code == 400 and not _signed_out(client)


def test_forged_id_token_hint_is_an_error_page(app, client, login, make_account):
    _, _, token = _signed_in(app, client, login, make_account)
    header, payload, _ = token["id_token"].split(".")
    response = client.get("/oidc/logout?" + urlencode({
        "id_token_hint": f"{header}.{payload}.AAAA", "post_logout_redirect_uri": AFTER}))
    assert response.status_code == 400 and "OIDC-004" in response.get_data(as_text=True)
    assert not _signed_out(client)


def test_backchannel_logout_token_reaches_registered_clients(
        app, client, login, make_account, receiver):
    uri, received = receiver
    client_id, secret, token = _signed_in(app, client, login, make_account,
                                          backchannel_logout_uri=uri)
    client.get("/oidc/logout?" + urlencode({"id_token_hint": token["id_token"]}))
    assert len(received) == 1
    content_type, form = received[0]
    assert content_type == "application/x-www-form-urlencoded"
    jwks = KeySet.import_key_set(client.get("/oidc/jwks").get_json())
    logout = jwt.decode(form["logout_token"][0], jwks, algorithms=["RS256", "ES256"])
    id_claims = jwt.decode(token["id_token"], jwks, algorithms=["RS256", "ES256"]).claims
    assert logout.header["typ"] == "logout+jwt"
    claims = logout.claims
    assert claims["iss"] == "http://localhost" and claims["aud"] == client_id
    assert claims["events"] == {EVENT: {}} and "nonce" not in claims and claims["jti"]
    assert claims["sid"] == id_claims["sid"] and claims["sub"] == id_claims["sub"]
    # the session's refresh tokens (no offline_access) ended with it
    refreshed = token_request(client, {"grant_type": "refresh_token",
                                       "refresh_token": token["refresh_token"]},
                              client_id, secret)
    assert refreshed.get_json()["error"] == "invalid_grant"


def test_offline_access_outlives_the_session(app, client, login, make_account, receiver):
    person = make_account()
    client_id, secret = register(app, scopes=["openid", "offline_access"],
                                 backchannel_logout_uri=receiver[0])
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=client_id, secret=secret, scope="openid offline_access")
    client.get("/oidc/logout?" + urlencode({"id_token_hint": token["id_token"]}))
    refreshed = token_request(client, {"grant_type": "refresh_token",
                                       "refresh_token": token["refresh_token"]},
                              client_id, secret)
    assert refreshed.status_code == 200


def test_logout_ends_saml_local_state_too(app, client, login, make_account):
    _, _, token = _signed_in(app, client, login, make_account)
    with client.session_transaction() as session:
        session["saml"] = {"sessions": ["sp-1"]}
    client.get("/oidc/logout?" + urlencode({"id_token_hint": token["id_token"]}))
    with client.session_transaction() as session:
        assert "saml" not in session


@pytest.mark.parametrize("lang, text", [("el", "Αποσύνδεση"), ("en", "Sign out")])
def test_logout_confirmation_in_greek_and_english(app, client, lang, text):
    client.set_cookie("kleidi_lang", lang, domain="localhost")
    page = client.get("/oidc/logout")
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.get_data(as_text=True)
    assert text in page.get_data(as_text=True)


def test_logout_on_the_idp_page_also_notifies_backchannel_clients(
        app, client, login, make_account, receiver):
    uri, received = receiver
    _signed_in(app, client, login, make_account, backchannel_logout_uri=uri)
    page = client.get("/logout")
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert _signed_out(client) and len(received) == 1
