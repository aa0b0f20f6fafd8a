"""Ending the SSO session from OIDC: RP-initiated logout and back-channel logout.

Back-channel logout (OpenID Connect Back-Channel Logout 1.0): every client that
received an ID token in the ending session and registered a
``backchannel_logout_uri`` gets a signed logout token, POSTed server to server.
"""

from __future__ import annotations

import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app, session
from joserfc import jwt

from idp import audit, clock, db, sessions
from idp.oidc import clients, grants, tokens

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def session_sid() -> str:
    """The ``sid`` of the current SSO session, created on first use."""
    oidc = dict(session.get("oidc") or {})
    if "sid" not in oidc:
        oidc["sid"] = secrets.token_urlsafe(32)
        session["oidc"] = oidc
    return oidc["sid"]


def logout_token(client, sub: str, sid: str) -> str:
    """A logout token for ``client`` (signed like its ID tokens, never with a nonce)."""
    key = current_app.extensions["kleidi.oidc.keys"].signing_key(client.id_token_alg)
    now = clock.timestamp()
    payload = {
        "iss": grants.issuer(), "aud": client.client_id, "iat": now,
        "exp": now + current_app.config["OIDC_LOGOUT_TOKEN_TTL_SECONDS"],
        "jti": secrets.token_urlsafe(16), "sub": sub, "sid": sid, "events": {EVENT: {}},
    }
    header = {"alg": client.id_token_alg, "kid": key.kid, "typ": "logout+jwt"}
    return jwt.encode(header, payload, key, [client.id_token_alg])


def _deliver(uri: str, token: str) -> bool:
    body = urllib.parse.urlencode({"logout_token": token}).encode()
    req = urllib.request.Request(  # noqa: S310
        uri, data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        # Only registered https (or loopback) URIs get here, never file: or others.
        with urllib.request.urlopen(  # noqa: S310
            req, timeout=current_app.config["OIDC_BACKCHANNEL_TIMEOUT_SECONDS"]
        ) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        log.warning("back-channel logout failed", extra={"uri": uri, "error": str(exc)})
        return False


def notify_clients(sid: str) -> None:
    """Send logout tokens for session ``sid``; end its grants without offline_access."""
    grants_ = tokens.grants_of_session(sid)
    by_client = {grant.client_id: grant for grant in grants_}
    for row in clients.with_backchannel_logout(by_client):
        client = clients.Client.from_row(row)
        account = by_client[row.client_id].account_id
        subject = grants.subject_of(account, client)
        if subject is not None:
            _deliver(row.backchannel_logout_uri, logout_token(client, subject.sub, sid))
    for grant in grants_:
        # Back-Channel Logout 2.7: only offline access outlives the session.
        if "offline_access" not in grant.scope.split() and grant.revoked_at is None:
            grant.revoked_at = clock.now()
    db.session().commit()


def session_ending() -> None:
    """Logout listener (any logout, the IdP's own page included): tell the OIDC clients."""
    sid = (session.get("oidc") or {}).get("sid")
    if sid:
        notify_clients(sid)


def end_sso_session() -> None:
    """RP-initiated logout: end the SSO session here, for every protocol."""
    account = sessions.current_account()
    if account is not None:
        audit.record("logout", account=account, via="oidc")
        db.session().commit()
    sessions.logout()  # runs session_ending; clears session["saml"]: SAML local state ends too
