"""Changing registered OIDC clients (``kleidi client update|rotate-secret``); the caller
commits. Removal is :func:`idp.relying_parties.review.remove`, which ends the tokens too."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from idp import audit, db
from idp.oidc import clients
from idp.oidc.models import OidcClient

CHANGEABLE = ("name", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri",
              "scopes", "refresh_tokens")


def listed() -> list[OidcClient]:
    return list(db.session().scalars(sa.select(OidcClient).order_by(OidcClient.client_id)))


def describe(client: OidcClient) -> dict:
    """What an operator sees of a client (never its secret)."""
    return {"client_id": client.client_id, "name": client.name,
            "token_endpoint_auth_method": client.auth_method,
            "strict_auth_method": client.strict_auth_method,
            "redirect_uris": client.redirect_uris,
            "post_logout_redirect_uris": client.post_logout_redirect_uris,
            "backchannel_logout_uri": client.backchannel_logout_uri, "scopes": client.scopes,
            "released_attributes": client.released_attributes, "sector": client.sector,
            "refresh_tokens": client.refresh_tokens, "jwks_uri": client.jwks_uri,
            "has_secret": client.secret_hash is not None}


def update(client: OidcClient, *, actor: str, reason: str = "", **changes) -> OidcClient:
    """Change the given settings (None: unchanged) after the checks of registration."""
    changes = {k: v for k, v in changes.items() if v is not None}
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise clients.InvalidClientSettings(f"cannot change {', '.join(sorted(unknown))}")
    uris = [*changes.get("redirect_uris", []), *changes.get("post_logout_redirect_uris", []),
            *filter(None, [changes.get("backchannel_logout_uri")])]
    for uri in uris:
        clients.check_uri(uri)
    if "redirect_uris" in changes and not changes["redirect_uris"]:
        raise clients.InvalidClientSettings("at least one redirect URI is needed")
    scopes = changes.get("scopes")
    if scopes is not None and ("openid" not in scopes or set(scopes) - set(clients.SUPPORTED_SCOPES)):
        raise clients.InvalidClientSettings(f"scopes must include openid, from {clients.SUPPORTED_SCOPES}")
    for name, value in changes.items():
        setattr(client, name, list(value) if isinstance(value, list | tuple) else value)
    audit.record("oidc.client_updated", actor=actor, client_id=client.client_id,
                 changed=sorted(changes), reason=reason)
    return client


def rotate_secret(client: OidcClient, *, actor: str, reason: str = "") -> str:
    """A new secret for a confidential client (returned once); the old one stops working."""
    if client.auth_method not in (*clients.SECRET_METHODS,):
        raise clients.InvalidClientSettings(f"a {client.auth_method} client has no secret")
    secret = secrets.token_urlsafe(32)
    client.secret_hash = clients.hash_secret(secret)
    audit.record("oidc.client_secret_rotated", actor=actor, client_id=client.client_id,
                 reason=reason)
    return secret
