"""Emails to an RP's owners at each step of its review (through the outbox)."""

from __future__ import annotations

from flask import current_app

from idp import attributes, messaging

TEMPLATE = "rp_status"
#: Steps after which the RP has no page of its own: the email links to the owner's list.
GONE = ("removed", "withdrawn")


def tell_owners(rp, step: str, *, besides=None, by: str | None = None) -> None:
    """Queue the ``step`` notice (submitted, approved, rejected, removed, withdrawn) to every
    owner but ``besides`` (the owner who did it), in the language each last signed in with;
    ``by`` names that owner in the text (the caller commits)."""
    from idp.relying_parties.registration import owners

    base = current_app.config["BASE_URL"]
    portal = base + ("/rp" if step in GONE else f"/rp/{rp.id}")
    for account in owners(rp):
        if besides is not None and account.id == besides.id:
            continue
        address = next(iter(attributes.person_attributes(account).get("email", [])), None)
        if address:
            messaging.enqueue("email", address, TEMPLATE, account.language or "el", step=step,
                              names=rp.requested["names"], identifier=rp.identifier,
                              reason=rp.decision_reason, portal=portal, by=by)
