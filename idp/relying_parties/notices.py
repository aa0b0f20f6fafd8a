"""Emails to an RP's owners at each step of its review (through the outbox)."""

from __future__ import annotations

from flask import current_app

from idp import attributes, messaging

TEMPLATE = "rp_status"


def tell_owners(rp, step: str) -> None:
    """Queue the ``step`` notice (submitted, approved, rejected, removed) to every owner, in
    the language each last signed in with (the caller commits)."""
    from idp.relying_parties.registration import owners

    portal = current_app.config["BASE_URL"] + f"/rp/{rp.id}"
    for account in owners(rp):
        address = next(iter(attributes.person_attributes(account).get("email", [])), None)
        if address:
            messaging.enqueue("email", address, TEMPLATE, account.language or "el", step=step,
                              names=rp.requested["names"], identifier=rp.identifier,
                              reason=rp.decision_reason, portal=portal)
