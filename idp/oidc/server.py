"""The authorization server: authlib's Flask server with Kleidi's grants and endpoints."""

from __future__ import annotations

import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidGrantError
from flask import Flask, current_app

from idp import metrics
from idp.oidc import clients, endpoints, grants, tokens


class KleidiAuthorizationServer(AuthorizationServer):
    """Clients come from ``clients``; tokens are saved through ``tokens``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[str, tuple[float, clients.Client]] = {}

    def query_client(self, client_id):
        """A registered client, kept OIDC_CLIENT_CACHE_SECONDS in this process."""
        hit = self._clients.get(client_id)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        row = clients.find(client_id)
        if row is None:
            return None  # unknown ids are never cached: they cannot fill memory
        client = clients.Client.from_row(row)
        ttl = current_app.config["OIDC_CLIENT_CACHE_SECONDS"]
        if ttl:
            self._clients[client_id] = (time.monotonic() + ttl, client)
        return client

    def authenticate_client(self, request, methods, endpoint="token"):
        """authlib's, saying only that authentication failed: its own answer lists every
        method the provider supports, or whether the client_id exists."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            error.description = "Client authentication failed."
            raise

    def save_token(self, token, request):
        """Persist what the token endpoint is about to return (committed). A code exchange's
        access token was stored when its code was taken (``tokens.take_code``)."""
        if request.authorization_code is not None:
            if not tokens.start_grant(request.authorization_code, request.user.id,
                                      token.get("refresh_token")):
                raise InvalidGrantError("The code can no longer be exchanged.")
            metrics.TOKENS.labels(grant_type="authorization_code").inc()
            return
        grant = request.refresh_token.grant
        if not tokens.replace_refresh_token(grant, token["refresh_token"]):
            raise InvalidGrantError("The refresh token was used by another request.")
        tokens.save_access_token(token["access_token"], grant, token["scope"])
        metrics.TOKENS.labels(grant_type="refresh_token").inc()


def generate_token(grant_type, client, user=None, scope=None, expires_in=None,
                   include_refresh_token=True):
    """Opaque random bearer tokens; a refresh token only for clients allowed one."""
    token = {
        "token_type": "Bearer", "access_token": tokens.new_secret(), "scope": scope,
        "expires_in": current_app.config["OIDC_ACCESS_TOKEN_TTL_SECONDS"],
    }
    if include_refresh_token and client.check_grant_type("refresh_token"):
        token["refresh_token"] = tokens.new_secret()
    return token


def create_server(app: Flask) -> KleidiAuthorizationServer:
    server = KleidiAuthorizationServer()
    server.init_app(app)
    server.register_token_generator("default", generate_token)
    server.register_client_auth_method("private_key_jwt", grants.PrivateKeyJWT())
    server.iss_parameter = grants.KleidiIssuerParameter()
    server.register_extension(server.iss_parameter)
    server.register_grant(grants.AuthorizationCodeGrant, [
        grants.StrictCodeChallenge(required=True), grants.KleidiOpenIDCode(require_nonce=False),
        grants.require_openid,
    ])
    server.register_grant(grants.RefreshTokenGrant)
    server.register_endpoint(endpoints.Revocation)
    server.register_endpoint(endpoints.Introspection)
    protector = endpoints.BearerProtector()
    protector.register_token_validator(endpoints.AccessTokenValidator())
    server.register_endpoint(endpoints.UserInfo(resource_protector=protector))
    server.register_endpoint(endpoints.EndSession)
    return server
