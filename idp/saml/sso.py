"""Web SSO endpoints: SP-initiated over HTTP-Redirect and HTTP-POST, and IdP-initiated.

An AuthnRequest is checked (idp.saml.intake), becomes a login interaction, and is answered at
once when the SSO session satisfies it; otherwise the login page takes over and comes back to
`resume`. Before answering, the post-login checks run (the shared consent screen among them),
with the exact attribute values this SP would receive.
"""

from __future__ import annotations

from flask import request
from flask_babel import get_locale
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from idp import sessions
from idp.errors import KleidiError
from idp.login import interactions
from idp.saml import answer, directory, hardening, intake, providers, release
from idp.saml.blueprint import bp


@bp.get("/sso/redirect")
def sso_redirect():
    return _sso(intake.receive("AuthnRequest", BINDING_HTTP_REDIRECT))


@bp.post("/sso/post")
def sso_post():
    return _sso(intake.receive("AuthnRequest", BINDING_HTTP_POST))


@bp.get("/sso/init")
def sso_init():
    """IdP-initiated (unsolicited) login to ?sp=<entityID>, for SPs allowed to receive it."""
    provider = directory.find(request.args.get("sp"))
    if provider is None:
        raise KleidiError("SAML-001", issuer=request.args.get("sp"))
    if not provider.policy.allow_unsolicited:
        raise KleidiError("SAML-010", issuer=provider.entity_id)
    relay_state = request.args.get("RelayState")
    try:
        hardening.check_relay_state(relay_state)
    except hardening.UnsafeMessage as exc:
        raise KleidiError("SAML-009") from exc
    return _start(provider, answer.unsolicited_payload(provider, relay_state))


@bp.get("/resume/<iid>")
def resume(iid):
    """Back from the login page (or the consent screen): answer the SP."""
    interaction = interactions.load(iid)
    if interaction["protocol"] != "saml":
        raise KleidiError("LOGIN-004")
    account = interactions.account_for(interaction)
    if account is None:
        return interactions.redirect_to_login(iid)
    return _answer(account, interaction, stored=True)


def _sso(received: intake.Received):
    payload = answer.request_payload(received.message, received.provider, received.relay_state)
    return _start(received.provider, payload)


def _start(provider: providers.Provider, payload: dict):
    # Stored only if the person has to go anywhere: a session that answers at once costs no
    # round trips to the store.
    interaction = interactions.new(
        "saml", payload, "saml.resume", force_login=payload["force_authn"],
        relying_party=provider.entity_id, rp_name=provider.display_name(str(get_locale())),
        requested_acr=payload["requested_contexts"] or None)
    account = None if payload["force_authn"] else interactions.account_for(interaction)
    if account is None:
        if payload["is_passive"]:
            return answer.status(payload, "no-passive")
        interactions.save(interaction)
        return interactions.redirect_to_login(interaction["id"])
    return _answer(account, interaction, stored=False)


def _answer(account: sessions.SignedIn, interaction: dict, stored: bool):
    payload = interaction["payload"]
    provider = directory.find(payload["sp"])
    if provider is None:
        raise KleidiError("SAML-001", issuer=payload["sp"])
    if interaction.get("denied"):
        interactions.finish(interaction["id"])
        return answer.status(payload, "denied", "The person declined to release attributes")
    changed = interaction.get("release") != (values := release.values_for(
        account, provider, str(get_locale())))
    interaction["release"] = values
    diversion = interactions.run_checks(account, interaction)
    if diversion is not None:
        if changed or not stored:  # the page it leads to (consent) reads it from the store
            interactions.save(interaction)
        return diversion
    if stored:
        interactions.finish(interaction["id"])
    return answer.assertion(account, provider, payload, values)
