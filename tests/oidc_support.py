"""What OIDC tests share: registering clients, a browser going through login and consent,
and the relying party's side of the code flow (PKCE, token requests)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from conftest import csrf_token
from joserfc import jwt
from joserfc.jwk import KeySet

from idp import db
from idp.oidc import clients

REDIRECT = "https://rp.example.org/callback"


def register(app, redirect_uris=(REDIRECT,), **settings) -> tuple[str, str | None]:
    settings.setdefault("scopes", ["openid", "profile", "email", "eduperson", "schac"])
    with app.app_context():
        row, secret = clients.add_client(redirect_uris=list(redirect_uris), **settings)
        db.session().commit()
        return row.client_id, secret


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def auth_params(client_id, challenge=None, **extra) -> dict:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": "openid profile email", "state": "st-" + secrets.token_hex(4),
              "nonce": "n-" + secrets.token_hex(4)}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def query(response) -> dict:
    """The parameters of a redirect back to the relying party."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}


def local_path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


def browse(client, response, *, consent="accept", limit=10):
    """Follow the IdP's own redirects, answering the consent page; stop at the RP."""
    for _ in range(limit):
        if response.status_code == 200 and b'name="decision"' in response.data:
            if consent is None:  # the test wants to see the question itself
                return response
            response = client.post(response.request.path, data={
                "csrf_token": csrf_token(response), "decision": consent})
            continue
        if response.status_code not in (302, 303) or not _is_local(response.location):
            return response
        response = client.get(local_path(response.location))
    raise AssertionError("too many redirects")


def _is_local(location: str) -> bool:
    parts = urlsplit(location)
    return parts.netloc in ("", "localhost")


def sign_in_and_authorize(client, login, username, password, params, consent="accept"):
    """A person arriving from an RP, logging in, consenting: the redirect back to the RP."""
    first = client.get("/oidc/authorize?" + urlencode(params))
    if first.status_code == 302 and "/login" in first.location:
        iid = parse_qs(urlsplit(first.location).query)["i"][0]
        return browse(client, login(client, username, password, iid), consent=consent)
    return browse(client, first, consent=consent)


def token_request(client, data, client_id=None, secret=None):
    headers = {}
    if secret is not None:
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        headers["Authorization"] = "Basic " + basic
    return client.post("/oidc/token", data=data, headers=headers)


def code_flow(client, login, app, *, username, password, client_id, secret=None,
              verifier=None, challenge=None, **extra):
    """Everything up to and including the token response (JSON) of a confidential client."""
    if verifier is None and challenge is None:
        verifier, challenge = pkce()
    params = auth_params(client_id, challenge, **extra)
    back = query(sign_in_and_authorize(client, login, username, password, params))
    data = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT}
    if verifier:
        data["code_verifier"] = verifier
    if secret is None:
        data["client_id"] = client_id
    response = token_request(client, data, client_id, secret)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json(), params, back


def id_token_claims(client, id_token: str) -> dict:
    """Verify an ID token against the published JWKS, as a relying party would."""
    jwks = KeySet.import_key_set(client.get("/oidc/jwks").get_json())
    return jwt.decode(id_token, jwks, algorithms=["RS256", "ES256"]).claims
