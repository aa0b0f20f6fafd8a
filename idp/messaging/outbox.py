"""The durable outbox: messages written with the state that needs them, delivered later.

:func:`enqueue` adds a row in the caller's transaction, so a PIN and the message carrying it
are committed together or not at all. The body is encrypted at rest (it may hold a PIN) and
erased once delivered. :func:`deliver_due` is the worker's step: it claims due messages,
hands them to the gateway of their channel and, on failure, schedules a retry with
exponential backoff until ``OUTBOX_MAX_ATTEMPTS``, after which the message is dead and an
error is logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from idp import clock, db
from idp.db import Base
from idp.messaging.gateways import DeliveryError, Outgoing
from idp.store import store

log = logging.getLogger(__name__)
PENDING, SENT, DEAD = "pending", "sent", "dead"
CLAIM_SECONDS = 120


class OutboxMessage(Base):
    """A message waiting for (or done with) delivery."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    body_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    template: Mapped[str] = mapped_column(sa.String(60))
    status: Mapped[str] = mapped_column(sa.String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    key = hmac.new(secret, b"kleidi outbox key", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def add(channel: str, recipient: str, subject: str, body: str, template: str) -> OutboxMessage:
    """Add a message to the caller's transaction (see :func:`idp.messaging.enqueue`)."""
    message = OutboxMessage(
        channel=channel, recipient=recipient, subject=subject, template=template,
        body_encrypted=_fernet().encrypt(body.encode()).decode(), status=PENDING,
        attempts=0, next_attempt_at=clock.now(),
    )
    db.session().add(message)
    return message


def within_sms_budget() -> bool:
    """Count one SMS against the hourly budget; False (and an alert) once it is spent."""
    hour = clock.now().strftime("%Y%m%d%H")
    used = store().incr(f"sms:budget:{hour}", 3600)
    budget = current_app.config["SMS_HOURLY_BUDGET"]
    if used > budget:
        log.error("SMS hourly budget exhausted: sending stopped",
                  extra={"alert": "sms_budget", "budget": budget, "requested": used})
        return False
    return True


def deliver_due(gateways: dict, limit: int = 50) -> int:
    """Deliver the messages that are due; how many were sent."""
    now = clock.now()
    ids = db.session().scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit)
    ).all()
    db.session().commit()
    return sum(_deliver(message_id, gateways) for message_id in ids if _claim(message_id))


def _claim(message_id: int) -> bool:
    """Take a message for this worker for a while, so two workers never send it twice."""
    now = clock.now()
    result = db.session().execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == PENDING,
               sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
        .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )
    db.session().commit()
    return result.rowcount == 1


def _deliver(message_id: int, gateways: dict) -> bool:
    session = db.session()
    message = session.get(OutboxMessage, message_id)
    body = _fernet().decrypt(message.body_encrypted.encode()).decode()
    outgoing = Outgoing(message.channel, message.recipient, message.subject, body)
    try:
        gateways[message.channel].send(outgoing)
    except DeliveryError as error:
        _retry_later(message, str(error))
        session.commit()
        return False
    message.status, message.sent_at, message.body_encrypted = SENT, clock.now(), None
    message.claimed_until = None
    session.commit()
    log.info("message sent", extra={"outbox_id": message.id, "channel": message.channel,
                                    "template": message.template})
    return True


def _retry_later(message: OutboxMessage, reason: str) -> None:
    config = current_app.config
    message.attempts += 1
    message.last_error, message.claimed_until = reason[:200], None
    if message.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        message.status, message.body_encrypted = DEAD, None
        log.error("message undeliverable", extra={"outbox_id": message.id, "reason": reason,
                                                  "channel": message.channel})
        return
    delay = min(config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (message.attempts - 1),
                config["OUTBOX_BACKOFF_MAX_SECONDS"])
    message.next_attempt_at = clock.now() + timedelta(seconds=delay)
    log.warning("message delivery failed, will retry",
                extra={"outbox_id": message.id, "reason": reason, "retry_in": delay})
