"""The OIDC blueprint: thin views over authlib's server and Kleidi's login."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Blueprint, current_app, jsonify, render_template, request

from idp import clock, db, navigation
from idp.errors import KleidiError
from idp.oidc import authorize as authz
from idp.oidc import claims, clients, grants, signing

bp = Blueprint("oidc", __name__)


def _server():
    return current_app.extensions["kleidi.oidc.server"]


@bp.get("/.well-known/openid-configuration")
def discovery():
    def url(endpoint):
        return navigation.public_url(endpoint)

    return jsonify({
        "issuer": grants.issuer(),
        "authorization_endpoint": url("oidc.authorize"),
        "token_endpoint": url("oidc.token"),
        "userinfo_endpoint": url("oidc.userinfo"),
        "jwks_uri": url("oidc.jwks"),
        "revocation_endpoint": url("oidc.revoke"),
        "introspection_endpoint": url("oidc.introspect"),
        "end_session_endpoint": url("oidc.end_session"),
        "scopes_supported": list(clients.SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(signing.ALGORITHMS),
        "token_endpoint_auth_methods_supported": grants.CLIENT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "revocation_endpoint_auth_methods_supported": grants.CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": grants.CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims.supported_claims(),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["el", "en"],
        "acr_values_supported": current_app.config["OIDC_ACR_VALUES"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    })


@bp.get("/oidc/jwks")
def jwks():
    keys = current_app.extensions["kleidi.oidc.keys"].published(clock.now())
    response = jsonify(keys)
    response.cache_control.max_age = current_app.config["OIDC_JWKS_MAX_AGE_SECONDS"]
    response.cache_control.public = True
    return response


@bp.route("/oidc/authorize", methods=["GET", "POST"])
def authorize():
    return authz.start()


@bp.get("/oidc/resume/<iid>")
def resume(iid):
    return authz.resume(iid)


@bp.post("/oidc/token")
def token():
    return _server().create_token_response()


@bp.route("/oidc/userinfo", methods=["GET", "POST"])
def userinfo():
    response = _server().create_endpoint_response("userinfo")
    db.session().commit()  # a grant found dead on the way is revoked for good
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/oidc/revoke")
def revoke():
    return _server().create_endpoint_response("revocation")


@bp.post("/oidc/introspect")
def introspect():
    response = _server().create_endpoint_response("introspection")
    db.session().commit()
    return response


@bp.route("/oidc/logout", methods=["GET", "POST"])
def end_session():
    """RP-initiated logout; without a valid id_token_hint the person confirms first."""
    try:
        req = _server().validate_endpoint_request("end_session")
    except OAuth2Error as error:
        raise KleidiError("OIDC-004", detail=error.description) from error
    if req.needs_confirmation:
        params = {k: v for k, v in request.values.items() if k != "csrf_token"}
        return render_template("oidc/logout_confirm.html", client=req.client, params=params)
    return _server().create_endpoint_response("end_session", req) or render_template(
        "oidc/logged_out.html")


@bp.post("/oidc/logout/confirm")
def end_session_confirmed():
    """The person confirmed: end the session; redirect only where authlib allows it."""
    try:
        req = _server().validate_endpoint_request("end_session")
    except OAuth2Error as error:
        raise KleidiError("OIDC-004", detail=error.description) from error
    return _server().create_endpoint_response("end_session", req) or render_template(
        "oidc/logged_out.html")


#: Endpoints called server to server or by RPs, authenticated by the protocol, not by a form.
CSRF_EXEMPT = (token, userinfo, revoke, introspect, end_session, authorize)
