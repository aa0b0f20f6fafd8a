"""One-time PINs sent to a person's registered mobile or email.

A PIN is six digits from the operating system's CSPRNG. Only a keyed hash of it is stored
(HMAC-SHA256 under a key derived from the server secret), bound to one flow and one purpose,
so a PIN issued for an activation cannot serve a password recovery. A PIN:

* lives ``PIN_TTL_SECONDS`` (15 minutes by default, the uregister figure);
* is consumed atomically: of two simultaneous correct submissions exactly one succeeds;
* is replaced by a resend (the earlier PIN stops working);
* is compared in constant time;
* ends its flow after ``PIN_MAX_ATTEMPTS`` wrong answers (counted per flow, across resends);
  an answer that is not six digits (after spaces and dashes are dropped) is a typing slip,
  answered with :data:`MALFORMED`, and costs no try.

Sending is limited per flow, per contact and per client address, per hour and per day, with a
short wait between two sends of one flow; :class:`SendLimit` says how long to wait. The
plain PIN exists only in the return value of :func:`issue` (for the message to be written)
and is never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from idp import audit, clock, db, errors, flows
from idp.db import Base
from idp.store import store

DIGITS = 6
OK, WRONG, EXPIRED, USED, MALFORMED = "ok", "wrong", "expired", "used", "malformed"
#: What people type between the digits of a PIN they copy: spaces, dashes, dots.
SEPARATORS = re.compile(r"[\s\-.]+")

errors.define("PIN-001", 429, _l("Too many PIN requests"),
              _l("A PIN was requested too many times. Wait an hour and start again."))
#: Shown for :data:`MALFORMED` answers, on every page that asks for a PIN.
FORMAT_MESSAGE = _l("A PIN has six digits. Type the six digits of the latest message; this "
                    "did not count as a try.")
errors.define("PIN-002", 403, _l("Too many wrong PINs"),
              _l("A wrong PIN was entered too many times, so the procedure was stopped. "
                 "Nothing was changed. Start again later."))


class SendLimit(errors.KleidiError):
    """PIN-001: no PIN may be sent now. ``wait`` is how many seconds until one may, or None
    when this procedure has sent all it may (a new procedure can, within the other limits)."""

    def __init__(self, limit: str, wait: int | None):
        super().__init__("PIN-001", limit=limit)
        self.limit, self.wait = limit, wait

    def message(self) -> str:
        """What the page says, in the current language, with the code for the helpdesk."""
        if self.wait is None:
            text = _l("This procedure has sent all the PINs it may. Use the latest PIN you "
                      "received, or start again.")
        elif self.wait < 120:
            text = _l("You can ask for a new PIN in %(seconds)s seconds.", seconds=self.wait)
        else:
            text = _l("Too many PINs were asked for. You can ask for a new one in about "
                      "%(minutes)s minutes.", minutes=math.ceil(self.wait / 60))
        return f"{text} ({self.entry.code})"


class Pin(Base):
    """A keyed hash of a PIN, bound to one flow and purpose (see the module docstring)."""

    __tablename__ = "pin"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[str] = mapped_column(sa.ForeignKey("flow.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(30))
    digest: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    consumed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"kleidi one-time PIN key", hashlib.sha256).digest()


def digest(flow_id: str, purpose: str, pin: str) -> str:
    """The stored form of ``pin``: an HMAC bound to the flow and purpose."""
    message = f"{flow_id}\n{purpose}\n{pin}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def contact_key(contact: str) -> str:
    """A keyed hash of a contact, so that throttle keys hold no phone number or address."""
    return hmac.new(_key(), f"contact\n{contact}".encode(), hashlib.sha256).hexdigest()[:32]


def new_pin() -> str:
    return f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"


def issue(flow: flows.Flow, purpose: str, *, contact: str, ip: str | None,
          resend: bool = False) -> str:
    """A new PIN for ``flow``; any earlier one for the same purpose stops working.

    Raises PIN-001 (:class:`SendLimit`) when a sending limit is reached; ``resend`` is true
    when the person asked for the PIN again. The caller writes the message (in the same
    transaction) and commits.
    """
    enforce_limits(flow, purpose, contact, ip, resend=resend)
    now = clock.now()
    session = db.session()
    session.execute(
        sa.update(Pin).where(Pin.flow_id == flow.id, Pin.purpose == purpose,
                             Pin.consumed_at.is_(None)).values(consumed_at=now)
    )
    pin = new_pin()
    lifetime = timedelta(seconds=current_app.config["PIN_TTL_SECONDS"])
    session.add(Pin(flow_id=flow.id, purpose=purpose, digest=digest(flow.id, purpose, pin),
                    created_at=now, expires_at=now + lifetime))
    return pin


def enforce_limits(flow: flows.Flow, purpose: str, contact: str, ip: str | None, *,
                   resend: bool = False) -> None:
    """Raise :class:`SendLimit` when this flow, contact or address may not be sent a PIN now
    (a ``resend``, the same PIN asked for again, also waits PIN_RESEND_WAIT_SECONDS)."""
    config = current_app.config
    sent, last = db.session().execute(
        sa.select(sa.func.count(), sa.func.max(Pin.created_at))
        .where(Pin.flow_id == flow.id, Pin.purpose == purpose)
    ).one()
    if sent > config["PIN_RESENDS_PER_FLOW"]:
        raise SendLimit("flow", None)
    if resend and last is not None:
        wait = config["PIN_RESEND_WAIT_SECONDS"] - (clock.now() - _aware(last)).total_seconds()
        if wait > 0:
            raise SendLimit("interval", math.ceil(wait))
    windows = (("hour", 3600), ("day", 86400))
    subjects = [("contact", contact_key(contact))] + ([("ip", ip)] if ip else [])
    for name, value in subjects:
        for window, seconds in windows:
            limit = config[f"PIN_SENDS_PER_{name.upper()}_{window.upper()}"]
            key = f"pin:{name}:{window}:{value}"
            if store().incr(key, seconds) > limit:
                raise SendLimit(f"{name}/{window}", store().ttl(key) or seconds)


def verify(flow: flows.Flow, purpose: str, candidate: str) -> str:
    """Check ``candidate`` against the flow's current PIN: OK, WRONG, EXPIRED or USED.

    OK means this call consumed the PIN. A wrong answer is counted; the one that reaches
    ``PIN_MAX_ATTEMPTS`` ends the flow and raises PIN-002. MALFORMED (not six digits) is
    not counted: it cannot be a guess at the PIN.
    """
    candidate = clean(candidate)
    if candidate is None:
        return MALFORMED
    pin = current(flow, purpose)
    if pin is None:
        return USED
    if _aware(pin.expires_at) <= clock.now():
        return EXPIRED
    if not hmac.compare_digest(digest(flow.id, purpose, candidate), pin.digest):
        if flows.record_wrong_answer(flow) >= current_app.config["PIN_MAX_ATTEMPTS"]:
            audit.record("pin.attempts_exhausted", actor="anonymous", kind=flow.kind,
                         purpose=purpose)
            flows.fail(flow, "pin_attempts")
            raise errors.KleidiError("PIN-002", kind=flow.kind)
        return WRONG
    return OK if consume(pin) else USED


def clean(candidate: str | None) -> str | None:
    """The six digits of a typed PIN ("123 456", "123-456", full-width digits), or None."""
    digits = SEPARATORS.sub("", unicodedata.normalize("NFKC", candidate or ""))
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def current(flow: flows.Flow, purpose: str) -> Pin | None:
    """The flow's live (unconsumed) PIN for ``purpose``, if any."""
    return db.session().scalars(
        sa.select(Pin).where(Pin.flow_id == flow.id, Pin.purpose == purpose,
                             Pin.consumed_at.is_(None))
        .order_by(Pin.id.desc()).limit(1)
    ).one_or_none()


def consume(pin: Pin) -> bool:
    """Mark ``pin`` used if nobody did before; True for exactly one caller."""
    result = db.session().execute(
        sa.update(Pin).where(Pin.id == pin.id, Pin.consumed_at.is_(None))
        .values(consumed_at=clock.now())
    )
    return result.rowcount == 1


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.now().tzinfo)
