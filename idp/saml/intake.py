"""Receiving AuthnRequests and LogoutRequests: every check, in order, before anything is trusted.

1. size, encoding and declarations (no DTD, no entities), then a hardened parse;
2. the issuer must be a known SP;
3. the signature's shape (SAML profile of XML Signature, no SHA-1), before verification;
4. the signature, with the SP's metadata keys only; required when the SP or policy says so;
5. IssueInstant window, Destination, and the request ID never seen before (replay cache);
6. RelayState at most 80 bytes, kept verbatim.
Failures raise KleidiError with a SAML-0xx code: nothing is answered to an unverified sender.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from lxml import etree
from saml2 import BINDING_HTTP_REDIRECT, samlp
from saml2.validate import NotValid, valid_instance

from idp import clock
from idp.errors import KleidiError
from idp.saml import bindings, crypto, directory, hardening, providers
from idp.saml.server import endpoint_url
from idp.store import store

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_KINDS = {
    "AuthnRequest": ("single_sign_on_service", samlp.authn_request_from_string),
    "LogoutRequest": ("single_logout_service", samlp.logout_request_from_string),
}
_REASON_CODES = {"algorithm": "SAML-005", "transform": "SAML-005", "signature-shape": "SAML-004",
                 "issue-instant": "SAML-006", "relay-state": "SAML-009", "malformed": "SAML-002"}


@dataclass
class Received:
    """A verified request: the pysaml2 message, its SP, and how it came."""

    message: object
    provider: providers.Provider
    binding: str
    relay_state: str | None
    signed: bool
    #: The request as parsed (and checked) on arrival, for what pysaml2 does not model.
    root: etree._Element | None = None


def receive(kind: str, binding: str, remember: bool = True) -> Received:
    """Read and check the `kind` request ("AuthnRequest"/"LogoutRequest") of this HTTP request;
    without ``remember``, its ID is not checked against (nor kept in) the replay cache: only
    to answer it with an error status while the store is down."""
    values = request.args if binding == BINDING_HTTP_REDIRECT else request.form
    if not values.get("SAMLRequest"):
        raise KleidiError("SAML-013")
    relay_state = values.get("RelayState")
    try:
        hardening.check_relay_state(relay_state)
        return _receive(kind, binding, values, relay_state, remember)
    except hardening.UnsafeMessage as exc:
        raise KleidiError(_REASON_CODES.get(exc.reason, "SAML-003"), reason=str(exc)) from exc


def _receive(kind, binding, values, relay_state, remember) -> Received:
    limit = current_app.config["SAML_MAX_MESSAGE_BYTES"]
    pieces = bindings.query_pieces(request.query_string.decode("latin-1")) \
        if binding == BINDING_HTTP_REDIRECT else {}
    root = hardening.parse(bindings.decode(binding, values["SAMLRequest"], limit), limit)
    if root.tag != f"{{{SAMLP}}}{kind}":
        raise KleidiError("SAML-002", reason=f"expected {kind}, got {root.tag}")
    provider = directory.find(issuer_of(root))
    if provider is None:
        raise KleidiError("SAML-001", issuer=issuer_of(root))
    signed = _check_signature(root, provider, pieces, kind)
    _check_freshness(root, kind, binding, signed)
    message = _message(kind, root)
    received = g.saml_received = Received(message, provider, binding, relay_state, signed, root)
    if remember:
        _remember(provider, message.id)
    return received


def _check_signature(root, provider, pieces, kind) -> bool:
    hardening.refuse_nested_signatures(root)
    embedded = hardening.signature_of(root)
    if "Signature" in pieces:
        if not bindings.verify_query_signature(pieces, "SAMLRequest", provider.signing_certs):
            raise KleidiError("SAML-004", issuer=provider.entity_id, binding="redirect")
    if embedded is not None:
        keys = [crypto.certificate_key(cert) for cert in provider.signing_certs]
        if not any(crypto.verify_signature(root, embedded, key) for key in keys):
            raise KleidiError("SAML-004", issuer=provider.entity_id, binding="embedded")
    signed = embedded is not None or "Signature" in pieces
    required = (current_app.config["SAML_REQUIRE_SIGNED_REQUESTS"]
                or provider.policy.require_signed_requests
                or (kind == "AuthnRequest" and provider.authn_requests_signed))
    if required and not signed:
        raise KleidiError("SAML-004", issuer=provider.entity_id, reason="unsigned")
    return signed


def _check_freshness(root, kind, binding, signed) -> None:
    config = current_app.config
    hardening.check_issue_instant(root.get("IssueInstant"), clock.now(),
                                  config["SAML_REQUEST_MAX_AGE_SECONDS"],
                                  config["SAML_CLOCK_SKEW_SECONDS"])
    expiry = root.get("NotOnOrAfter")  # LogoutRequest only
    if expiry is not None:
        hardening.check_not_expired(expiry, clock.now(), config["SAML_CLOCK_SKEW_SECONDS"])
    destination = root.get("Destination")
    if signed and not destination:
        raise KleidiError("SAML-014", reason="signed request without Destination")
    if destination is not None and destination != endpoint_url(_KINDS[kind][0], binding):
        raise KleidiError("SAML-014", destination=destination)


def _message(kind, root):
    try:
        message = _KINDS[kind][1](etree.tostring(root))
        valid_instance(message)
    except (NotValid, ValueError, TypeError) as exc:
        raise KleidiError("SAML-002", reason=str(exc)) from exc
    if message is None or not message.id or message.version != "2.0":
        raise KleidiError("SAML-002", reason="no ID or not SAML 2.0")
    return message


def _remember(provider, message_id: str) -> None:
    """Refuse a request ID seen before from the same SP, within the IssueInstant window."""
    config = current_app.config
    ttl = config["SAML_REQUEST_MAX_AGE_SECONDS"] + 2 * config["SAML_CLOCK_SKEW_SECONDS"]
    key = f"saml:seen:{provider.entity_id}:{message_id}"
    if not store().add(key, {"at": clock.timestamp()}, ttl):
        raise KleidiError("SAML-007", issuer=provider.entity_id)


def issuer_of(root) -> str:
    return (root.findtext(f"{{{SAML}}}Issuer") or "").strip()


def read_response(binding: str, values) -> etree._Element:
    """The parsed LogoutResponse of this HTTP request (size, declarations and shape checked)."""
    limit = current_app.config["SAML_MAX_MESSAGE_BYTES"]
    try:
        hardening.check_relay_state(values.get("RelayState"))
        root = hardening.parse(bindings.decode(binding, values.get("SAMLResponse", ""), limit),
                               limit)
        hardening.refuse_nested_signatures(root)
        hardening.signature_of(root)
    except hardening.UnsafeMessage as exc:
        raise KleidiError(_REASON_CODES.get(exc.reason, "SAML-003"), reason=str(exc)) from exc
    if root.tag != f"{{{SAMLP}}}LogoutResponse":
        raise KleidiError("SAML-002", reason=f"expected LogoutResponse, got {root.tag}")
    return root


def response_signature_ok(root, provider, binding: str, values) -> bool:
    """Every signature the SP put on its response verifies with its metadata keys."""
    if binding == BINDING_HTTP_REDIRECT and "Signature" in values:
        pieces = bindings.query_pieces(request.query_string.decode("latin-1"))
        try:
            if not bindings.verify_query_signature(pieces, "SAMLResponse", provider.signing_certs):
                return False
        except hardening.UnsafeMessage:
            return False
    embedded = hardening.signature_of(root)
    if embedded is None:
        return True
    keys = [crypto.certificate_key(cert) for cert in provider.signing_certs]
    return any(crypto.verify_signature(root, embedded, key) for key in keys)
