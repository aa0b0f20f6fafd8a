"""The audit log: security events, append-only, never holding a secret.

An event is a row written in the same transaction as the change it describes, and a log line
written only once that transaction has committed: a change rolled back leaves neither."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.orm import Mapped, mapped_column

from idp import clock, db, metrics
from idp.db import Base
from idp.identity.models import Account, Person

log = logging.getLogger("kleidi.audit")


class AuditEvent(Base):
    """An append-only record of a security event. Never holds a secret."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now, index=True)
    event: Mapped[str] = mapped_column(sa.String(60))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    actor: Mapped[str] = mapped_column(sa.String(60), default="user")
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)


@sa.event.listens_for(AuditEvent, "before_update")
@sa.event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper, _connection, _target):
    raise RuntimeError("audit events are append-only")


def record(event: str, *, account: Account | None = None, person: Person | None = None,
           actor: str = "user", **detail) -> AuditEvent:
    """Add an event to the current transaction (the caller commits with its own changes).

    In a request, the request id (the one in the log lines and on error pages) is kept in
    ``detail["request_id"]``, so an operator's action can be traced from its page to its logs.
    """
    if has_request_context() and g.get("request_id") and "request_id" not in detail:
        detail["request_id"] = g.request_id
    entry = AuditEvent(
        event=event,
        account_id=account.id if account else None,
        person_id=person.id if person else (account.person_id if account else None),
        actor=actor,
        ip=request.remote_addr if has_request_context() else None,
        detail=detail,
    )
    db.session().add(entry)
    fields = {"account_id": entry.account_id, "actor": actor, **detail}
    db.after_commit(lambda: _committed(event, fields))
    return entry


def _committed(event: str, fields: dict) -> None:
    log.info(event, extra={"audit": fields})
    metrics.audit_committed(event)
