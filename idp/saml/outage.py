"""What SSO answers while the database or the store is down (idp.outages): the SP gets a
Response with the top-level status ``Responder`` (second level
``urn:kleidi:status:TemporarilyUnavailable``) at its validated ACS, when the AuthnRequest
can still be checked; otherwise the person sees the GEN-007 page."""

from __future__ import annotations

from flask import Flask, g, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from idp import outages
from idp.errors import KleidiError
from idp.saml import answer, intake

BINDINGS = {"saml.sso_redirect": BINDING_HTTP_REDIRECT, "saml.sso_post": BINDING_HTTP_POST}


def sso_answer(_dependency: str):
    try:
        received = g.get("saml_received") or intake.receive(
            "AuthnRequest", BINDINGS[request.endpoint], remember=False)
        payload = answer.request_payload(received.message, received.provider,
                                         received.relay_state)
    except KleidiError:
        return None  # not a request that can be answered: the page says what happened
    return answer.status(payload, "unavailable", "The identity provider is temporarily "
                         "unavailable; try again shortly.")


def init_app(app: Flask) -> None:
    outages.respond_with(app, tuple(BINDINGS), sso_answer)
