"""Warnings before an account's end: one email, in Greek and in English, saying when the
account ends, what stays, and how a person who is still a member proves it and to whom."""

from __future__ import annotations

from datetime import date

from flask import current_app

from idp import messaging
from idp.identity import extensions, validity
from idp.identity.models import Account
from idp.messaging import outbox

TEMPLATE = "lifecycle_warning"


def recipients(account: Account) -> list[str]:
    """The external email if there is one (the institutional mailbox may end with the
    account), else the institutional address."""
    return [account.external_email] if account.external_email else [account.eppn]


def warn(account: Account, end: date, as_of: date) -> int:
    """Queue the warning (in the caller's transaction); how many emails."""
    roles = sorted({a.role for a in account.person.affiliations if validity.counted(a)})
    evidence = [kind for kind, proves in extensions.evidence_kinds().items()
                if any(role in proves for role in roles)]
    context = {"username": account.username, "ends_on": end.isoformat(),
               "days": (end - as_of).days, "grace": current_app.config["LIFECYCLE_GRACE_DAYS"],
               "kept": sorted(validity.kept_services(account)), "evidence": evidence,
               "office": current_app.config["LIFECYCLE_OFFICE_EMAIL"]}
    parts = [messaging.render(TEMPLATE, "email", language, **context) for language in ("el", "en")]
    subject = f"{parts[0][0]} / {parts[1][0]}"
    body = parts[0][1] + "\n----------\n\n" + parts[1][1]
    for recipient in recipients(account):
        outbox.add("email", recipient, subject, body, TEMPLATE)
    return len(recipients(account))
