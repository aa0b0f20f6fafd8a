"""authlib grants and extensions, with Kleidi's storage behind their hooks."""

from __future__ import annotations

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import OpenIDCode
from flask import current_app, session
from joserfc.jwk import KeySet
from sqlalchemy.orm import joinedload

from idp import attributes, clock, db, navigation
from idp.identity import identifiers
from idp.identity.models import Account
from idp.oidc import claims, client_keys, tokens
from idp.store import store

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


def issuer() -> str:
    return current_app.config["OIDC_ISSUER"] or current_app.config["BASE_URL"]


# Built once (every code exchange runs it): the account with its person, for the pairwise sub.
ACCOUNT_WITH_PERSON = sa.select(Account).options(joinedload(Account.person)).where(
    Account.id == sa.bindparam("id"))


def subject_of(account_id: int, client) -> claims.Subject | None:
    """The person behind a code or token, if their account may still be used."""
    account = db.session().scalar(ACCOUNT_WITH_PERSON, {"id": account_id})
    if account is None or account.status != "active":
        return None
    return claims.Subject(account, client)


def session_acr() -> str | None:
    """The session's acr; a login by password alone is REFEDS single-factor."""
    if session.get("acr"):
        return session["acr"]
    return "https://refeds.org/profile/sfa" if session.get("amr") else None


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """The code flow; codes live in the store, hashed, for OIDC_CODE_TTL_SECONDS."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def save_authorization_code(self, code, request):
        data = request.payload.data
        oidc = session.get("oidc", {})
        tokens.save_code(
            code, client_id=request.client.client_id, redirect_uri=request.payload.redirect_uri,
            scope=request.scope, account_id=request.user.id, auth_time=session.get("auth_time"),
            nonce=data.get("nonce"), acr=session_acr(), amr=session.get("amr") or [],
            sid=oidc.get("sid"), account_epoch=request.user.session_epoch,
            sub=attributes.pairwise_unique(request.user, request.client.sector),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code, client):
        return tokens.take_code(code, client.client_id)

    def generate_token(self, *args, **kwargs):
        """The access token is the one ``take_code`` stored with the code's redemption."""
        token = super().generate_token(*args, **kwargs)
        token["access_token"] = self.request.authorization_code.access_token
        return token

    def delete_authorization_code(self, authorization_code):
        """Nothing to do: ``take_code`` already removed it, atomically."""

    def authenticate_user(self, authorization_code):
        """The code's person, by the ``sub`` chosen when it was issued.

        Whether the account may still be used (active, password unchanged since) is checked
        by the same statement that starts the grant (``tokens.start_grant``), not here.
        """
        if authorization_code.sub:
            return claims.TokenSubject(authorization_code.account_id, authorization_code.sub)
        # A code issued before codes carried their sub (they live OIDC_CODE_TTL_SECONDS).
        found = tokens.account_for_exchange(authorization_code.account_id)
        if found is None:
            return None
        sub = identifiers.pairwise_unique(found.academic_id, self.request.client.sector,
                                          found.released_academic_id)
        return claims.TokenSubject(authorization_code.account_id, sub)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh tokens rotate on every use; a used one coming back revokes its family."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        found = tokens.live_refresh_token(refresh_token, self.request.client.client_id)
        return RefreshCredential(found) if found else None

    def authenticate_user(self, credential):
        grant = credential.grant
        sub = identifiers.pairwise_unique(grant.academic_id, self.request.client.sector,
                                          grant.released_academic_id)
        return claims.TokenSubject(grant.account_id, sub)

    def revoke_old_credential(self, credential):
        """Nothing to do: ``save_token`` replaced it (``tokens.replace_refresh_token``)."""


class RefreshCredential:
    """A refresh token's grant (a row of ``tokens.live_refresh_token``), as authlib reads it."""

    def __init__(self, grant):
        self.grant = grant

    def check_client(self, client):
        return client.client_id == self.grant.client_id

    def get_scope(self):
        return self.grant.scope


class StrictCodeChallenge(CodeChallenge):
    """PKCE with S256 only; required of public clients already at the authorization endpoint."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if grant.request.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("PKCE (code_challenge with S256) is required")
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256; plain is refused")
        super().validate_code_challenge(grant, redirect_uri)


class KleidiOpenIDCode(OpenIDCode):
    """ID tokens: signed with the client's algorithm by the current key, ``sub`` pairwise."""

    def exists_nonce(self, nonce, request):
        # The nonce protects the RP's own session; the OP only passes it through.
        return False

    def resolve_client_private_key(self, client):
        return current_app.extensions["kleidi.oidc.keys"].signing_key(client.id_token_alg)

    def get_encode_header(self, client):
        key = self.resolve_client_private_key(client)
        return {"alg": client.id_token_alg, "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client):
        now = clock.timestamp()
        return {"iss": issuer(), "aud": [client.client_id], "azp": client.client_id, "iat": now,
                "exp": now + current_app.config["OIDC_ID_TOKEN_TTL_SECONDS"]}

    def get_authorization_code_claims(self, authorization_code):
        extra = super().get_authorization_code_claims(authorization_code)
        if authorization_code.sid:
            extra["sid"] = authorization_code.sid
        return extra

    def generate_user_info(self, user, scope):
        # OIDC Core 5.4: with an access token issued, scope claims come from userinfo; the
        # ID token says who (pairwise sub) and how they authenticated, and nothing more.
        return {"sub": user.sub}


def require_openid(grant):
    """Extension: Kleidi is an OpenID provider, every request asks for ``openid``."""

    def check(grant, _result):
        if "openid" not in (grant.request.scope or "").split():
            raise InvalidScopeError("the openid scope is required")

    grant.register_hook("after_validate_authorization_request_payload", check)


class KleidiIssuerParameter(IssuerParameter):
    """RFC 9207: ``iss`` in every authorization response, errors included."""

    def get_issuer(self):
        return issuer()


class PrivateKeyJWT(JWTBearerClientAssertion):
    """private_key_jwt client authentication; a ``jti`` is accepted once."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self):
        return [issuer(), navigation.public_url("oidc.token")]

    def validate_jti(self, claims_, jti):
        # An assertion valid for longer than we remember its jti could be replayed: refuse it.
        lifetime = int(claims_["exp"]) - clock.timestamp() + self.leeway
        if lifetime > current_app.config["OIDC_ASSERTION_MAX_SECONDS"]:
            return False
        return store().add(f"oidc:jti:{claims_['sub']}:{jti}", {}, max(1, lifetime))

    def resolve_client_public_key(self, client):
        if client.jwks_uri and not client.jwks:
            return client_keys.published(client.jwks_uri)
        return KeySet.import_key_set(client.jwks or {"keys": []})
