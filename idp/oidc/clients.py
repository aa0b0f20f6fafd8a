"""Registered OIDC clients: storage functions and the view authlib needs of one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import ClientMixin, scope_to_list

from idp import db
from idp.oidc.models import AUTH_METHODS, OidcClient

SUPPORTED_SCOPES = ("openid", "profile", "email", "eduperson", "schac", "offline_access")
LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
#: The two ways of sending a client secret; a client may use either unless held to one.
SECRET_METHODS = {"client_secret_basic", "client_secret_post"}


class InvalidClientSettings(ValueError):
    """A registration that cannot be accepted; the message says why."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_uri(uri: str) -> None:
    """Refuse a redirect or logout URI that is not https (or http on a loopback address)."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise InvalidClientSettings(f"{uri}: a redirect URI may not have a fragment")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise InvalidClientSettings(f"{uri}: must be https (or http on a loopback address)")


def _sector(redirect_uris: list[str], sector: str | None) -> str:
    if sector:
        return sector
    hosts = {urlsplit(uri).hostname for uri in redirect_uris}
    if len(hosts) != 1:
        raise InvalidClientSettings("redirect URIs on several hosts need an explicit --sector")
    return hosts.pop()


def add_client(*, redirect_uris, name="", auth_method="client_secret_basic", scopes=None,
               sector=None, jwks=None, post_logout_redirect_uris=(),
               id_token_alg="RS256",  # noqa: S107 (an algorithm name, not a secret)
               backchannel_logout_uri=None, refresh_tokens=True,
               strict_auth_method=False) -> tuple[OidcClient, str | None]:
    """Register a client (the caller commits); returns it and its secret, shown only once.

    A client with a secret may authenticate with either secret method unless
    ``strict_auth_method`` holds it to ``auth_method``.
    """
    if auth_method not in AUTH_METHODS:
        raise InvalidClientSettings(f"unknown auth method {auth_method}")
    if not redirect_uris:
        raise InvalidClientSettings("at least one redirect URI is needed")
    if auth_method == "private_key_jwt" and not (jwks and jwks.get("keys")):
        raise InvalidClientSettings("private_key_jwt needs the client's public keys (--jwks)")
    if id_token_alg not in ("RS256", "ES256"):
        raise InvalidClientSettings("the ID token algorithm must be RS256 or ES256")
    scopes = list(scopes or ("openid", "profile", "email"))
    if "openid" not in scopes or set(scopes) - set(SUPPORTED_SCOPES):
        raise InvalidClientSettings(f"scopes must include openid, from {SUPPORTED_SCOPES}")
    for uri in [*redirect_uris, *post_logout_redirect_uris, *filter(None, [backchannel_logout_uri])]:
        check_uri(uri)
    secret = secrets.token_urlsafe(32) if auth_method.startswith("client_secret") else None
    client = OidcClient(
        client_id=new_client_id(), name=name, auth_method=auth_method,
        secret_hash=hash_secret(secret) if secret else None, redirect_uris=list(redirect_uris),
        post_logout_redirect_uris=list(post_logout_redirect_uris), scopes=scopes,
        sector=_sector(redirect_uris, sector), jwks=jwks, id_token_alg=id_token_alg,
        backchannel_logout_uri=backchannel_logout_uri, refresh_tokens=refresh_tokens,
        strict_auth_method=strict_auth_method,
    )
    db.session().add(client)
    return client, secret


def find(client_id: str) -> OidcClient | None:
    if not isinstance(client_id, str) or len(client_id) > 64:
        return None
    return db.session().scalar(sa.select(OidcClient).where(OidcClient.client_id == client_id))


def display_name(client_id: str, _lang: str) -> str | None:
    """The client's registered name, else the host of its first redirect URI, for the pages."""
    client = find(client_id)
    if client is None:
        return None
    return client.name or next((urlsplit(uri).hostname for uri in client.redirect_uris), None)


def with_backchannel_logout(client_ids) -> list[OidcClient]:
    """The clients among ``client_ids`` that asked for back-channel logout."""
    return list(db.session().scalars(sa.select(OidcClient).where(
        OidcClient.client_id.in_(list(client_ids)),
        OidcClient.backchannel_logout_uri.is_not(None),
    )))


@dataclass
class Client(ClientMixin):
    """A client as authlib sees it: a detached copy of the row."""

    client_id: str
    name: str
    auth_method: str
    secret_hash: str | None
    redirect_uris: list
    post_logout_redirect_uris: list
    scopes: list
    sector: str
    id_token_alg: str
    refresh_tokens: bool
    strict_auth_method: bool = False
    jwks: dict | None = None
    backchannel_logout_uri: str | None = None
    #: The approved internal attributes (None: every claim of the approved scopes).
    released_attributes: list | None = None
    jwks_uri: str | None = None
    client_metadata: dict = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: OidcClient) -> Client:
        names = cls.__dataclass_fields__.keys() - {"client_metadata"}
        client = cls(**{name: getattr(row, name) for name in names})
        client.client_metadata = {
            "post_logout_redirect_uris": list(row.post_logout_redirect_uris),
            "token_endpoint_auth_method": row.auth_method,
        }
        return client

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"

    @property
    def id_token_signed_response_alg(self) -> str:
        return self.id_token_alg

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        # Never guess: the redirect URI is required in every request.
        return None

    def get_allowed_scope(self, scope):
        allowed = [s for s in scope_to_list(scope or "") if s in self.scopes]
        return " ".join(dict.fromkeys(allowed))

    def check_redirect_uri(self, redirect_uri):
        # Exact string comparison (OIDC Core 3.1.2.1): no prefix, case or port folding.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        if not self.secret_hash or not isinstance(client_secret, str):
            return False
        return hmac.compare_digest(hash_secret(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method, endpoint):
        if method == self.auth_method:
            return True
        return not self.strict_auth_method and {method, self.auth_method} <= SECRET_METHODS

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        if grant_type == "refresh_token":
            return self.refresh_tokens
        return grant_type == "authorization_code"


def new_client_id() -> str:
    """A random client_id (144 bits) that does not start with "-", so that commands take it as
    an argument rather than an option."""
    while (client_id := secrets.token_urlsafe(18)).startswith("-"):
        pass
    return client_id
