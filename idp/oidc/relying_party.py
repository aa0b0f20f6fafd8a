"""OIDC clients as relying parties registered through the portal.

Checks what an RP admin asks for (exact redirect URIs, https or http loopback; the token
endpoint authentication method and its keys); on approval writes the client row with the
approved attributes, the scopes that carry them and the secret issued at registration.
Other instances see the change within OIDC_CLIENT_CACHE_SECONDS: no restart.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp import clock, db
from idp.consent import Consent
from idp.oidc import claims, clients
from idp.oidc.models import AUTH_METHODS, OidcClient, OidcGrant
from idp.relying_parties import kinds
from idp.relying_parties.kinds import Checked, Refused


class OidcKind:
    """The OIDC part of relying-party registration (see :class:`idp.relying_parties.kinds.Kind`)."""

    name = "oidc"

    def check(self, settings: dict, identifier: str | None) -> Checked:
        checked = _settings(settings)
        return Checked(identifier=identifier or clients.new_client_id(), settings=checked,
                       needs_secret=checked["auth_method"] in clients.SECRET_METHODS)

    def attributes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(internal for internal, _multi in claims.CLAIMS.values()))

    def publish(self, identifier: str, approved: dict, secret_hash: str | None, *,
                actor: str) -> None:
        settings, release = approved["settings"], approved["release"]
        row = clients.find(identifier)
        if row is None:
            row = OidcClient(client_id=identifier, secret_hash=secret_hash)
            db.session().add(row)
        row.name = approved["names"]["en"]
        row.auth_method = settings["auth_method"]
        row.strict_auth_method = settings["auth_method"] not in clients.SECRET_METHODS
        row.redirect_uris = settings["redirect_uris"]
        row.post_logout_redirect_uris = settings["post_logout_redirect_uris"]
        row.backchannel_logout_uri = settings["backchannel_logout_uri"]
        row.jwks, row.jwks_uri = settings["jwks"], settings["jwks_uri"]
        row.scopes = scopes_for(release)
        row.released_attributes = list(release)
        row.sector = urlsplit(settings["redirect_uris"][0]).hostname
        _forget_cached(identifier)

    def served(self) -> list[str]:
        return list(db.session().scalars(
            sa.select(OidcClient.client_id).order_by(OidcClient.client_id)))

    def withdraw(self, identifier: str, *, actor: str) -> bool:
        session = db.session()
        known = session.execute(sa.delete(OidcClient).where(
            OidcClient.client_id == identifier)).rowcount
        session.execute(sa.update(OidcGrant).where(
            OidcGrant.client_id == identifier, OidcGrant.revoked_at.is_(None),
        ).values(revoked_at=clock.now()))
        session.execute(sa.delete(Consent).where(Consent.relying_party == identifier))
        _forget_cached(identifier)
        return bool(known)

    def preview(self, account, identifier: str, approved: dict) -> dict[str, list[str]]:
        client = clients.Client(
            client_id=identifier, name="", auth_method="none", secret_hash=None,
            redirect_uris=approved["settings"]["redirect_uris"], post_logout_redirect_uris=[],
            scopes=scopes_for(approved["release"]),
            sector=urlsplit(approved["settings"]["redirect_uris"][0]).hostname,
            id_token_alg="RS256", refresh_tokens=True,  # noqa: S106 (an algorithm)
            released_attributes=list(approved["release"]))
        subject = claims.Subject(account, client)
        found = claims.user_claims(subject, " ".join(client.scopes))
        return {name: value if isinstance(value, list) else [str(value)]
                for name, value in found.items()}


def scopes_for(release) -> list[str]:
    """openid and every scope that carries one of the released attributes."""
    wanted = set(release)
    return ["openid", *(scope for scope, names in claims.SCOPE_CLAIMS.items()
                        if any(claims.CLAIMS[claim][0] in wanted for claim in names))]


def _settings(settings: dict) -> dict:
    lists = {key: [u.strip() for u in settings.get(key) or [] if u and u.strip()]
             for key in ("redirect_uris", "post_logout_redirect_uris")}
    backchannel = (settings.get("backchannel_logout_uri") or "").strip() or None
    if not lists["redirect_uris"]:
        raise Refused("RP-005", "at least one redirect URI is needed")
    for uri in [*lists["redirect_uris"], *lists["post_logout_redirect_uris"], *filter(None, [backchannel])]:
        try:
            clients.check_uri(uri)
        except clients.InvalidClientSettings as error:
            raise Refused("RP-002", str(error)) from None
    if len({urlsplit(uri).hostname for uri in lists["redirect_uris"]}) != 1:
        raise Refused("RP-005", "the redirect URIs must all be on one host (the pairwise sector)")
    method = settings.get("auth_method") or "client_secret_basic"
    if method not in AUTH_METHODS:
        raise Refused("RP-005", f"unknown token endpoint authentication method {method}")
    jwks, jwks_uri = _keys(method, settings.get("jwks"), (settings.get("jwks_uri") or "").strip())
    return {**lists, "backchannel_logout_uri": backchannel, "auth_method": method,
            "jwks": jwks, "jwks_uri": jwks_uri}


def _keys(method: str, jwks, jwks_uri: str):
    if method != "private_key_jwt":
        return None, None
    if jwks:
        try:
            KeySet.import_key_set(jwks)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise Refused("RP-005", f"the JWKS cannot be read: {error}") from None
        if not jwks.get("keys"):
            raise Refused("RP-005", "the JWKS holds no key")
        return jwks, None
    # The IdP itself fetches it: plain http (loopback) only outside production.
    production = current_app.config["ENV"] == "production"
    try:
        clients.check_uri(jwks_uri)
        if production and not jwks_uri.startswith("https://"):
            raise clients.InvalidClientSettings(jwks_uri)
    except clients.InvalidClientSettings:
        raise Refused("RP-005", "private_key_jwt needs the client's keys: a JWKS or an https "
                      "jwks_uri") from None
    return None, jwks_uri


def _forget_cached(client_id: str) -> None:
    server = current_app.extensions.get("kleidi.oidc.server")
    if server is not None:
        server._clients.pop(client_id, None)


def init_app(app: Flask) -> None:
    kinds.register(app, OidcKind())
