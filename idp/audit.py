"""The audit log: security events, append-only, never holding a secret."""

from __future__ import annotations

import logging

from flask import has_request_context, request

from idp import db
from idp.models import Account, AuditEvent, Person

log = logging.getLogger("kleidi.audit")


def record(event: str, *, account: Account | None = None, person: Person | None = None,
           actor: str = "user", **detail) -> AuditEvent:
    """Add an event to the current transaction (the caller commits with its own changes)."""
    entry = AuditEvent(
        event=event,
        account_id=account.id if account else None,
        person_id=person.id if person else (account.person_id if account else None),
        actor=actor,
        ip=request.remote_addr if has_request_context() else None,
        detail=detail,
    )
    db.session().add(entry)
    log.info(event, extra={"audit": {"account_id": entry.account_id, "actor": actor, **detail}})
    return entry
