"""Answers to an SP's AuthnRequest: a signed assertion, or a SAML status, over HTTP-POST."""

from __future__ import annotations

from flask import current_app, session
from saml2 import BINDING_HTTP_POST, SAMLError
from saml2.saml import AUTHN_PASSWORD_PROTECTED
from saml2.samlp import (
    STATUS_INVALID_NAMEID_POLICY,
    STATUS_NO_AUTHN_CONTEXT,
    STATUS_NO_PASSIVE,
    STATUS_REQUEST_DENIED,
)

from idp.errors import KleidiError
from idp.identity.models import Account
from idp.saml import bindings, crypto, release, response
from idp.saml import server as idp_server
from idp.saml.providers import Provider

REFEDS_MFA = "https://refeds.org/profile/mfa"
STATUSES = {"no-passive": STATUS_NO_PASSIVE, "denied": STATUS_REQUEST_DENIED,
            "nameid-policy": STATUS_INVALID_NAMEID_POLICY, "no-context": STATUS_NO_AUTHN_CONTEXT}
#: The second-level status under Responder while the database or the store is down (SAML core
#: 3.2.2.2 lets a system entity define its own; see docs/saml.md).
STATUS_TEMPORARILY_UNAVAILABLE = "urn:kleidi:status:TemporarilyUnavailable"
STATUSES["unavailable"] = STATUS_TEMPORARILY_UNAVAILABLE


def request_payload(message, provider: Provider, relay_state: str | None) -> dict:
    """What the interaction keeps of an AuthnRequest (JSON), the ACS already validated."""
    if message.protocol_binding and message.protocol_binding != BINDING_HTTP_POST:
        raise KleidiError("SAML-011", binding=message.protocol_binding)
    try:
        info = idp_server.server().response_args(message, [BINDING_HTTP_POST])
    except SAMLError as exc:
        raise KleidiError("SAML-008", issuer=provider.entity_id, reason=str(exc)) from exc
    policy = message.name_id_policy
    contexts = message.requested_authn_context
    return {
        "sp": provider.entity_id, "request_id": message.id, "acs": info["destination"],
        "relay_state": relay_state, "force_authn": message.force_authn in ("true", "1"),
        "is_passive": message.is_passive in ("true", "1"),
        "name_id_format": policy.format if policy is not None else None,
        "requested_contexts": [ref.text for ref in contexts.authn_context_class_ref]
        if contexts is not None else [],
    }


def unsolicited_payload(provider: Provider, relay_state: str | None) -> dict:
    """The payload of an IdP-initiated login: the SP's default POST ACS, no InResponseTo."""
    idp = idp_server.server()
    services = idp.metadata.assertion_consumer_service(provider.entity_id, BINDING_HTTP_POST)
    if not services:
        raise KleidiError("SAML-011", binding="no HTTP-POST AssertionConsumerService")
    default = next((s for s in services if s.get("is_default") == "true"), services[0])
    return {"sp": provider.entity_id, "request_id": None, "acs": default["location"],
            "relay_state": relay_state, "force_authn": False, "is_passive": False,
            "name_id_format": None, "requested_contexts": []}


def status(payload: dict, which: str, text: str | None = None):
    """A Response with an error status, sent to the (validated) ACS."""
    idp = idp_server.server()
    response = idp.create_error_response(payload["request_id"], payload["acs"],
                                         (STATUSES[which], text), sign=True)
    return bindings.post_page(payload["acs"], "SAMLResponse", str(response),
                              payload["relay_state"])


def assertion(account: Account, provider: Provider, payload: dict, values: dict):
    """The signed (and, if the SP publishes a key for it, encrypted) Response."""
    mfa = REFEDS_MFA in payload["requested_contexts"]
    if mfa and not second_factor_used(session.get("amr") or []):
        return status(payload, "no-context", "REFEDS MFA is not available for this login")
    name_format = release.choose_format(payload["name_id_format"], list(provider.name_id_formats),
                                        values)
    if name_format is None:
        return status(payload, "nameid-policy")
    name_id = release.name_id(account, provider, name_format, idp_server.entity_id(),
                               values)
    session_index = _session_index(provider, name_id)
    config = current_app.config
    encrypt = provider.encryption_key and provider.policy.encrypt_assertions
    xml = response.build(
        idp_server.entity_id(),
        response.Subject(name_id=name_id.text, name_id_format=name_id.format,
                         audience=provider.entity_id, acs=payload["acs"],
                         in_response_to=payload["request_id"]),
        response.Authn(instant=session.get("auth_time") or 0,
                       class_ref=REFEDS_MFA if mfa else AUTHN_PASSWORD_PROTECTED,
                       session_index=session_index),
        values, signer=idp_server.signer(), lifetime=config["SAML_ASSERTION_LIFETIME_SECONDS"],
        sign_response=provider.policy.sign_response,
        sign_assertion=provider.policy.sign_assertions,
        encrypt_for=crypto.certificate_pem(provider.encryption_certs[0]) if encrypt else None,
        data_encryption=config["SAML_DATA_ENCRYPTION"])
    _remember_session(provider, name_id, session_index)
    return bindings.post_page(payload["acs"], "SAMLResponse", xml, payload["relay_state"])


def second_factor_used(amr: list[str]) -> bool:
    """RFC 8176 methods of this login: "mfa", or a password and a one-time code."""
    return "mfa" in amr or {"pwd", "otp"} <= set(amr)


def _session_index(provider: Provider, name_id) -> str:
    """The SessionIndex of this IdP session at `provider`: the same for every assertion to the
    same SP under the same NameID, so that one LogoutRequest names all of them; random and
    different at each SP, so that it correlates nothing across SPs (SAML core 2.7.2)."""
    known = ((session.get("saml") or {}).get("sps") or {}).get(provider.entity_id) or {}
    if known.get("name_id") == name_id.text and known.get("session_index"):
        return known["session_index"]
    return response.new_id()


def _remember_session(provider: Provider, name_id, session_index: str) -> None:
    """Keep, in the IdP session, which SPs got an assertion, under which NameID and
    SessionIndex (for SLO)."""
    saml = dict(session.get("saml") or {})
    sps = dict(saml.get("sps") or {})
    record = {"name_id": name_id.text, "format": name_id.format, "session_index": session_index}
    if sps.get(provider.entity_id) != record:
        sps[provider.entity_id] = record
        saml["sps"] = sps
        session["saml"] = saml
