"""The authorization endpoint: validate with authlib, log in through the one login, answer.

The request is validated first (client, exact redirect URI, scope, PKCE, prompt).
Until the redirect URI is known to be registered, failures are shown as an error
page and never redirected; afterwards they go back to the client as OAuth errors
with ``state`` and ``iss``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import current_app, g, redirect, request, url_for
from joserfc import jwt
from joserfc.errors import JoseError

from idp import audit, clock, db, i18n, navigation
from idp.errors import KleidiError
from idp.login import interactions
from idp.oidc import claims, grants, logout, signing

PARAMETERS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
              "code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint",
              "ui_locales", "acr_values", "response_mode", "claims", "request", "request_uri",
              "id_token_hint")


def server():
    return current_app.extensions["kleidi.oidc.server"]


def error_response(error: OAuth2Error, state=None):
    """An OAuth error back to the client if its redirect URI is trusted, else the error page."""
    if not error.redirect_uri:
        raise KleidiError(_page_code(error), error=error.error, detail=error.description)
    error.state = state
    response = server().handle_error_response(None, error)
    server().iss_parameter.add_issuer_parameter(server(), response)
    return response


def _page_code(error: OAuth2Error) -> str:
    if error.error == "invalid_client":
        return "OIDC-001"
    if "redirect" in (error.description or "").lower():
        return "OIDC-002"
    return "OIDC-003"


def _max_age(data) -> int | None:
    """``max_age`` in seconds; None when absent or malformed (refused in ``_refuse``)."""
    value = data.get("max_age") or ""
    return int(value) if value.isdigit() else None


def _refuse(data, grant) -> None:
    """What a valid client may not ask for: told so at its own redirect URI."""
    for name in ("request", "request_uri"):
        if data.get(name):  # refused rather than silently ignored (OIDC Core 6)
            raise OAuth2Error(f"The {name} parameter is not supported.",
                              error=f"{name}_not_supported", redirect_uri=grant.redirect_uri)
    if data.get("response_mode", "query") != "query":  # the only mode discovery advertises
        raise InvalidRequestError("Only response_mode=query is supported.",
                                  redirect_uri=grant.redirect_uri)
    if data.get("max_age") and _max_age(data) is None:
        raise InvalidRequestError("max_age must be a number of seconds.",
                                  redirect_uri=grant.redirect_uri)


def _matching_hint(hint: str | None, grant, account):
    """The session's account, unless an ``id_token_hint`` names someone else (OIDC Core
    3.1.2.1): then the person must log in, and ``prompt=none`` gets ``login_required``."""
    if not hint or account is None:
        return account
    keys = current_app.extensions["kleidi.oidc.keys"].verification_keys(clock.now())
    try:
        hinted = jwt.decode(hint, keys, algorithms=list(signing.ALGORITHMS)).claims
    except JoseError as exc:
        raise InvalidRequestError("id_token_hint is not an ID token of this provider.",
                                  redirect_uri=grant.redirect_uri) from exc
    if hinted.get("iss") != grants.issuer():
        raise InvalidRequestError("id_token_hint was not issued here.",
                                  redirect_uri=grant.redirect_uri)
    same = hinted.get("sub") == claims.Subject(account, grant.request.client).sub
    return account if same else None


def start():
    """Handle an authorization request from a relying party."""
    data = request.values
    g.locale = ui_locale()
    prompts = (data.get("prompt") or "").split()
    max_age = _max_age(data)
    account = None if "login" in prompts else interactions.authenticated(max_age=max_age)
    try:
        grant = server().get_consent_grant(end_user=account)
        _refuse(data, grant)
        account = _matching_hint(data.get("id_token_hint"), grant, account)
    except OAuth2Error as error:
        return error_response(error, data.get("state"))
    interaction = _begin(grant, {name: data[name] for name in PARAMETERS if data.get(name)},
                         prompts, max_age, account)
    return _decide(grant, interaction, account, prompts)


def _decide(grant, interaction: dict, account, prompts: list[str]):
    """Answer now, ask the person (login, consent), or tell the client why not (prompt=none)."""
    diverted = None
    if account is not None and "consent" not in prompts:
        diverted = _checks(account, interaction, silent="none" in prompts)
        if diverted is None:
            return respond(interaction, account)
        if "none" not in prompts:
            return diverted
    if "none" in prompts:
        error = _silent_error(account, diverted)
        error.redirect_uri = grant.redirect_uri
        return error_response(error, interaction["payload"].get("state"))
    if account is not None:  # prompt=consent with a usable session: straight to the question
        return _with_language(_ask_consent(interaction))
    return _with_language(interactions.redirect_to_login(interaction["id"]))


def _checks(account, interaction: dict, silent: bool):
    """The post-login checks; with prompt=none a check's error page becomes a diversion."""
    try:
        return interactions.run_checks(account, interaction)
    except KleidiError:
        if not silent:
            raise
        return redirect(url_for("login.resume", iid=interaction["id"]))


def _silent_error(account, diverted) -> OAuth2Error:
    """Why prompt=none cannot be answered: no session, consent to ask, or anything else."""
    if account is None:
        return LoginRequiredError()
    if diverted is None or "/consent/" in diverted.location:
        return ConsentRequiredError()
    return InteractionRequiredError()


def _with_language(response):
    """ui_locales decides the language of the pages the person meets next."""
    language = ui_locale()
    if language:
        i18n.remember(response, language)
    return response


def _begin(grant, payload: dict, prompts: list[str], max_age: int | None, account) -> dict:
    """The interaction; what would be released is filled in for whoever ends up signed in."""
    client = grant.request.client
    iid = interactions.begin(
        "oidc", payload, "oidc.resume", force_login="login" in prompts, max_age=max_age,
        relying_party=client.client_id, rp_name=client.name or client.client_id,
        requested_acr=payload.get("acr_values"),
    )
    interaction = interactions.load(iid)
    interaction["oidc"] = {"scope": grant.request.scope, "prompt_consent": "consent" in prompts}
    interaction["login_hint"] = _username_hint(payload.get("login_hint"))
    if account is not None:
        release_for(account, interaction)
    interactions.save(interaction)
    return interaction


def release_for(account, interaction: dict):
    """Post-login check (before consent): the values to release are those of the person who
    actually signed in, who may not be the one whose session the request found."""
    oidc = interaction.get("oidc") or {}
    if interaction.get("protocol") != "oidc" or oidc.get("release_account") == account.id:
        return None
    client = server().query_client(interaction["payload"]["client_id"])
    interaction["release"] = claims.released_attributes(account, client, oidc["scope"])
    oidc["release_account"] = account.id
    interactions.save(interaction)
    return None


def _username_hint(hint: str | None) -> str | None:
    """A login_hint as a username: ``user@<institution domain>`` becomes ``user``."""
    if not hint or len(hint) > 254:
        return None
    user, _, domain = hint.partition("@")
    if domain and domain.lower() not in current_app.config["INSTITUTION_DOMAINS"]:
        return None
    return user


def ui_locale() -> str | None:
    """The first of the request's ui_locales that we speak (el or en)."""
    for tag in (request.values.get("ui_locales") or "").split():
        language = tag.split("-")[0].lower()
        if language in ("el", "en"):
            return language
    return None


def _ask_consent(interaction: dict):
    interaction["oidc"]["consent_asked"] = True
    interactions.save(interaction)
    return redirect(url_for("login.consent", iid=interaction["id"]))


def consent_requested(account, interaction: dict):
    """Post-login check: ``prompt=consent`` asks again even when consent is remembered."""
    oidc = interaction.get("oidc") or {}
    if interaction.get("protocol") != "oidc" or not oidc.get("prompt_consent"):
        return None
    if oidc.get("consent_asked"):
        return None
    return _ask_consent(interaction)


def resume(iid: str):
    """Back from the login page (and the checks): answer the relying party."""
    interaction = interactions.load(iid)
    if interaction.get("protocol") != "oidc":
        raise KleidiError("LOGIN-004")
    account = interactions.account_for(interaction)
    if account is None:
        return interactions.redirect_to_login(iid)
    diverted = interactions.run_checks(account, interaction)
    if diverted is not None:
        return diverted
    return respond(interaction, account)


def _rebuild(payload: dict) -> OAuth2Request:
    uri = navigation.public_url("oidc.authorize") + "?" + urlencode(payload)
    req = OAuth2Request("GET", uri)
    req.payload = BasicOAuth2Payload(payload)
    return req


def respond(interaction: dict, account):
    """Issue the code (or the refusal) to the client, and close the interaction."""
    req = _rebuild(interaction["payload"])
    req.user = account
    try:
        grant = server().get_authorization_grant(req)
        grant.validate_consent_request()
    except OAuth2Error as error:
        return error_response(error, interaction["payload"].get("state"))
    interactions.finish(interaction["id"])
    if interaction.get("denied"):
        from authlib.oauth2.rfc6749 import AccessDeniedError
        return error_response(AccessDeniedError(redirect_uri=grant.redirect_uri),
                              interaction["payload"].get("state"))
    logout.session_sid()
    audit.record("oidc.code_issued", account=account, client_id=req.client.client_id)
    db.session().commit()
    return server().create_authorization_response(request=req, grant_user=account, grant=grant)
