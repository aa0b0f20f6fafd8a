"""Self-service flows as explicit state machines with an expiry.

A flow is one record: which kind of flow it is, the state it is in, whom it concerns once
known (``subject``), when it expires, how many wrong answers it has had, where to go when it
is done (``return_to``), and the data its steps have gathered. Each kind declares its states
and the moves allowed between them; :func:`advance` refuses any other move, so a step cannot
be skipped by posting to a later page. An expired flow raises one error, ``FLOW-002``.

A flow is bound to the browser session that started it: its id alone (which appears in
URLs) is not enough to continue it from another browser.

Usage by a self-service module::

    flows.register_kind("activation", initial="role", lifetime="ACTIVATION_FLOW_SECONDS",
                        transitions={"role": {"identify"}, "identify": {"pin_sent"}, ...})
    flow = flows.start("activation")
    flow = flows.load(flow_id, "activation", expect="identify")
    flows.advance(flow, "pin_sent")
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, session
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from idp import clock, db, errors
from idp.db import Base

#: States every kind has: the flow ended well, or ended for good after a failure.
DONE, FAILED = "done", "failed"
SESSION_KEY = "flows"

errors.define("FLOW-001", 404, _l("This procedure was not found"),
              _l("The link you followed is unknown or was opened in another browser. "
                 "Start again from the login page."))
errors.define("FLOW-002", 410, _l("This procedure has expired"),
              _l("Too much time passed since you started. Nothing was changed. "
                 "Start again from the login page."))
errors.define("FLOW-003", 409, _l("This step is not available now"),
              _l("The page you sent belongs to another step of the procedure, for example "
                 "after using the browser's Back button. Start again from the login page."))
errors.define("FLOW-004", 403, _l("This procedure was stopped"),
              _l("The procedure ended after too many wrong answers or a failed check. "
                 "Nothing was changed. Start again later, or contact the secretariat."))


class Flow(Base):
    """One run of a self-service procedure (see the module docstring)."""

    __tablename__ = "flow"

    id: Mapped[str] = mapped_column(sa.String(43), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    state: Mapped[str] = mapped_column(sa.String(30))
    subject: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now
    )
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    return_to: Mapped[str | None] = mapped_column(sa.String(500))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    def remember(self, **values) -> None:
        """Add to the flow's data (a new dict, so that SQLAlchemy sees the change)."""
        self.data = {**self.data, **values}


@dataclass(frozen=True)
class Kind:
    """A kind of flow: its first state, allowed moves and the setting holding its lifetime."""

    name: str
    initial: str
    transitions: dict[str, frozenset[str]]
    lifetime: str


KINDS: dict[str, Kind] = {}


class IllegalTransition(errors.KleidiError):
    """A move that the kind's table does not allow."""

    def __init__(self, flow: Flow, target: str):
        super().__init__("FLOW-003", kind=flow.kind, state=flow.state, target=target)


def register_kind(name: str, *, initial: str, transitions: dict[str, set[str]],
                  lifetime: str) -> Kind:
    """Declare a kind of flow. Every kind may also move to ``failed`` from any live state."""
    table = {state: frozenset(targets) | {FAILED} for state, targets in transitions.items()}
    table.setdefault(DONE, frozenset())
    table.setdefault(FAILED, frozenset())
    unknown = {target for targets in table.values() for target in targets} - set(table)
    if unknown or initial not in table:
        raise ValueError(f"flow kind {name}: undeclared states {sorted(unknown) or [initial]}")
    KINDS[name] = Kind(name, initial, table, lifetime)
    return KINDS[name]


def start(kind: str, *, subject: str | None = None, return_to: str | None = None,
          data: dict | None = None) -> Flow:
    """Create a flow in its initial state, bound to the current browser session."""
    spec = KINDS[kind]
    lifetime = current_app.config[spec.lifetime]
    flow = Flow(id=secrets.token_urlsafe(32), kind=kind, state=spec.initial, subject=subject,
                expires_at=clock.now() + timedelta(seconds=lifetime), attempts=0,
                return_to=return_to, data=dict(data or {}))
    db.session().add(flow)
    session[SESSION_KEY] = [*session.get(SESSION_KEY, [])[-4:], flow.id]
    return flow


def load(flow_id: str, kind: str, *, expect: str | set[str] | None = None,
         for_update: bool = False) -> Flow:
    """The live flow ``flow_id`` of ``kind`` for this browser, optionally in state ``expect``.

    Raises FLOW-001 (unknown, or another browser's), FLOW-002 (expired), FLOW-004 (failed)
    or FLOW-003 (in another state than expected).
    """
    if flow_id not in session.get(SESSION_KEY, []):
        raise errors.KleidiError("FLOW-001", kind=kind)
    query = sa.select(Flow).where(Flow.id == flow_id, Flow.kind == kind)
    if for_update:
        query = query.with_for_update()
    flow = db.session().scalars(query).one_or_none()
    if flow is None:
        raise errors.KleidiError("FLOW-001", kind=kind)
    if flow.state == FAILED:
        raise errors.KleidiError("FLOW-004", kind=kind)
    if expired(flow):
        raise errors.KleidiError("FLOW-002", kind=kind, state=flow.state)
    expected = {expect} if isinstance(expect, str) else expect
    if expected is not None and flow.state not in expected:
        raise IllegalTransition(flow, "/".join(sorted(expected)))
    return flow


def expired(flow: Flow) -> bool:
    expires_at = flow.expires_at
    if expires_at.tzinfo is None:  # SQLite returns naive datetimes; they are stored as UTC
        expires_at = expires_at.replace(tzinfo=clock.now().tzinfo)
    return expires_at <= clock.now()


def allowed(flow: Flow, target: str) -> bool:
    return target in KINDS[flow.kind].transitions.get(flow.state, frozenset())


def advance(flow: Flow, target: str, **data) -> Flow:
    """Move ``flow`` to ``target`` (adding ``data``), or raise FLOW-003 if not allowed."""
    if expired(flow):
        raise errors.KleidiError("FLOW-002", kind=flow.kind, state=flow.state)
    if not allowed(flow, target):
        raise IllegalTransition(flow, target)
    flow.state = target
    if data:
        flow.remember(**data)
    return flow


def fail(flow: Flow, reason: str) -> None:
    """End ``flow`` for good (committed at once, whatever the caller does next).

    Its data are replaced by the reason: what a refused person typed is not kept.
    """
    db.session().execute(
        sa.update(Flow).where(Flow.id == flow.id).values(state=FAILED, data={"reason": reason})
    )
    db.session().commit()


def record_wrong_answer(flow: Flow) -> int:
    """Count one wrong answer atomically (committed at once); the new count."""
    count = db.session().scalar(
        sa.update(Flow).where(Flow.id == flow.id).values(attempts=Flow.attempts + 1)
        .returning(Flow.attempts)
    )
    db.session().commit()
    flow.attempts = count
    return count


def purge_expired(before: datetime | None = None) -> int:
    """Delete flows that expired before ``before`` (default: a day ago); how many."""
    limit = before or clock.now() - timedelta(days=1)
    result = db.session().execute(sa.delete(Flow).where(Flow.expires_at < limit))
    db.session().commit()
    return result.rowcount
