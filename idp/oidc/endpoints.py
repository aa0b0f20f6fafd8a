"""authlib endpoints: revocation (RFC 7009), introspection (RFC 7662), userinfo, end session."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import current_app, request

from idp import clock, db
from idp.oidc import claims, grants, logout, tokens
from idp.oidc.models import OidcGrant


@dataclass
class IssuedToken:
    """An access or refresh token as authlib's endpoints read it."""

    kind: str  # "access_token" or "refresh_token"
    value: str
    grant: OidcGrant | None
    client_id: str
    account_id: int
    scope: str
    iat: int
    exp: int
    used: bool = False

    def check_client(self, client):
        return client.client_id == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return max(0, self.exp - clock.timestamp())

    def is_expired(self):
        return self.exp <= clock.timestamp()

    def is_revoked(self):
        return self.used or not tokens.grant_is_live(self.grant)

    def get_client(self):
        return current_app.extensions["kleidi.oidc.server"].query_client(self.client_id)

    def get_user(self):
        return grants.subject_of(self.account_id, self.get_client())


def find_token(value: str, hint: str | None = None) -> IssuedToken | None:
    """The access or refresh token ``value`` (the hint only orders the search)."""
    order = ["refresh_token", "access_token"] if hint == "refresh_token" else [
        "access_token", "refresh_token"]
    for kind in order:
        token = _find_access(value) if kind == "access_token" else _find_refresh(value)
        if token:
            return token
    return None


def _find_access(value):
    record = tokens.find_access_token(value)
    if record is None:
        return None
    grant = db.session().get(OidcGrant, record["grant"])
    return IssuedToken("access_token", value, grant, record["client_id"], record["account_id"],
                       record["scope"], record["iat"], record["exp"])


def _find_refresh(value):
    found = tokens.find_refresh_token(value)
    if found is None:
        return None
    row, grant = found
    return IssuedToken("refresh_token", value, grant, grant.client_id, grant.account_id,
                       grant.scope, int(row.created_at.timestamp()),
                       int(tokens.as_utc(grant.expires_at).timestamp()),
                       used=row.used_at is not None)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = grants.CLIENT_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        # RFC 7009 2.1: revoking a refresh token also ends the access tokens of its grant.
        if token.kind == "refresh_token":
            tokens.revoke_grant(token.grant.id, reason="revoked_by_client")
        else:
            tokens.revoke_access_token(token.value)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = grants.CLIENT_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        # A client learns about its own tokens only.
        return token.client_id == client.client_id

    def introspect_token(self, token):
        client = token.get_client()
        subject = token.get_user()
        if subject is None:
            return {"active": False}
        return {
            "active": True, "client_id": token.client_id, "token_type": (
                "Bearer" if token.kind == "access_token" else "refresh_token"),
            "scope": token.scope, "sub": subject.sub, "aud": client.client_id,
            "iss": grants.issuer(), "exp": token.exp, "iat": token.iat,
        }


class AccessTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return _find_access(token_string)


class BearerProtector(ResourceProtector):
    """Bearer tokens from the Authorization header or, on POST, the form body (RFC 6750 2.2)."""

    def parse_request_authorization(self, req):
        if "Authorization" not in req.headers and request.method == "POST" and (
            request.mimetype == "application/x-www-form-urlencoded"
            and "access_token" in request.form
        ):
            return self.get_token_validator("bearer"), request.form["access_token"]
        return super().parse_request_authorization(req)


class UserInfo(UserInfoEndpoint):
    def get_issuer(self):
        return grants.issuer()

    def generate_user_info(self, user, scope):
        if user is None:  # the account was disabled after the token was issued
            raise InvalidTokenError()
        return claims.user_claims(user, scope)

    def resolve_private_key(self):
        return current_app.extensions["kleidi.oidc.keys"].signing_key("RS256")


class EndSession(EndSessionEndpoint):
    def resolve_client_from_id_token_claims(self, id_token_claims):
        # Our ID tokens carry aud as a one-element list.
        aud = id_token_claims.get("aud")
        if isinstance(aud, list) and len(aud) == 1:
            aud = aud[0]
        return self.server.query_client(aud) if isinstance(aud, str) else None

    def get_server_jwks(self):
        return current_app.extensions["kleidi.oidc.keys"].verification_keys(clock.now())

    def end_session(self, end_session_request):
        logout.end_sso_session()
