"""What the OpenID provider answers while the database or the store is down (idp.outages).

The token, userinfo, introspection and revocation endpoints answer JSON with
``temporarily_unavailable`` (503, ``Retry-After``). The authorization endpoint sends the
browser back to the client with ``error=temporarily_unavailable`` (RFC 6749 4.1.2.1) when the
client and its exact redirect URI can still be confirmed (the client cache, or the database if
only the store is down); otherwise the person sees the GEN-007 page.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Flask, jsonify, request

from idp import outages
from idp.oidc import authorize

DESCRIPTION = "The service is temporarily unavailable; try again shortly."


class TemporarilyUnavailableError(OAuth2Error):
    error = "temporarily_unavailable"
    description = DESCRIPTION


def json_answer(_dependency: str):
    response = jsonify(error="temporarily_unavailable", error_description=DESCRIPTION)
    response.status_code = 503
    return response


def authorization_answer(_dependency: str):
    client_id, redirect_uri = request.values.get("client_id"), request.values.get("redirect_uri")
    if not client_id or not redirect_uri:
        return None
    client = authorize.server().query_client(client_id)
    if client is None or not client.check_redirect_uri(redirect_uri):
        return None
    error = TemporarilyUnavailableError(redirect_uri=redirect_uri)
    return authorize.error_response(error, request.values.get("state"))


def init_app(app: Flask) -> None:
    outages.respond_with(app, ("oidc.token", "oidc.userinfo", "oidc.introspect", "oidc.revoke"),
                         json_answer)
    outages.respond_with(app, ("oidc.authorize",), authorization_answer)
