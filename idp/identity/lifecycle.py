"""The account lifecycle: warnings before an account's end, deactivation after a grace
period, the alumni state, and reinstatement.

:func:`run` is ``kleidi lifecycle run`` (and a daily task of ``kleidi worker``). For each
personal account it recomputes the end (:mod:`idp.identity.validity`); from
``LIFECYCLE_WARNING_DAYS`` before it, a warning email goes out (each offset once per end
date, however often the run repeats); ``LIFECYCLE_GRACE_DAYS`` after it, the account is
deactivated — or, when some of its services survive (students' email), moved to the alumni
state. Either way every session and OIDC grant ends at once (the session epoch moves).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from idp import audit, clock, db
from idp.db import Base
from idp.identity import validity
from idp.identity.models import Account, Affiliation


class Notice(Base):
    """A warning sent: one per account, end date and offset."""

    __tablename__ = "lifecycle_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    ends_on: Mapped[date]
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)

    __table_args__ = (sa.UniqueConstraint("account_id", "ends_on", "days_before",
                                          name="lifecycle_notice_once"),)


@dataclass
class Report:
    """What a run did (or, dry, would do): counts per kind and one line per change."""

    as_of: date
    dry_run: bool
    counts: Counter = field(default_factory=Counter)
    changes: list[dict] = field(default_factory=list)

    def add(self, kind: str, account: Account, **detail) -> None:
        self.counts[kind] += 1
        self.changes.append({"kind": kind, "username": account.username, **detail})

    def as_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "counts": dict(self.counts), "changes": self.changes}


def run(as_of: date | None = None, *, dry_run: bool = False, actor: str = "lifecycle") -> Report:
    """One lifecycle pass as of ``as_of`` (today); committed unless ``dry_run``."""
    report = Report(as_of or clock.now().date(), dry_run)
    session = db.session()
    try:
        _end_past_contracts(report, actor)
        for account in session.scalars(sa.select(Account).where(
                Account.kind == "personal", Account.status == "active",
                Account.alumni_since.is_(None)).order_by(Account.id)).all():
            _step(account, report, actor)
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def _step(account: Account, report: Report, actor: str) -> None:
    end = validity.refresh(account)
    if end is None:
        return
    grace = current_app.config["LIFECYCLE_GRACE_DAYS"]
    if report.as_of > end + timedelta(days=grace):
        deactivate(account, end, report, actor)
    else:
        _warn(account, end, report)


def _end_past_contracts(report: Report, actor: str) -> None:
    """Affiliations whose end date has passed end (a contract that ran out)."""
    from idp.messaging import webhooks

    for affiliation in db.session().scalars(sa.select(Affiliation).where(
            Affiliation.status == "active", Affiliation.valid_through < report.as_of)).all():
        affiliation.status = "ended"
        for account in affiliation.person.accounts:
            report.add("affiliation_ended", account, role=affiliation.role)
            webhooks.publish("affiliation.ended", account, role=affiliation.role)
        audit.record("affiliation.ended", person=affiliation.person, actor=actor,
                     role=affiliation.role, reason="end_date")


def _warn(account: Account, end: date, report: Report) -> None:
    days_left = (end - report.as_of).days
    due = [days for days in current_app.config["LIFECYCLE_WARNING_DAYS"] if days_left <= days]
    if not due or days_left < 0:
        return
    days = min(due)
    sent = db.session().scalar(sa.select(Notice.id).where(
        Notice.account_id == account.id, Notice.ends_on == end, Notice.days_before == days))
    if sent is not None:
        return
    from idp.identity import notices

    db.session().add(Notice(account_id=account.id, ends_on=end, days_before=days,
                            sent_at=clock.now()))
    notices.warn(account, end, report.as_of)
    audit.record("lifecycle.warned", account=account, actor="lifecycle", ends_on=end.isoformat(),
                 days_before=days)
    report.add("warned", account, ends_on=end.isoformat(), days_before=days)


def deactivate(account: Account, end: date, report: Report, actor: str) -> None:
    """Move the account to the alumni state if services survive, else deactivate it."""
    from idp import sessions
    from idp.messaging import webhooks

    kept = validity.kept_services(account)
    if kept:
        account.alumni_since = report.as_of
        kind = "moved_to_alumni"
    else:
        account.status = "expired"
        kind = "deactivated"
    sessions.bump_epoch(account)
    audit.record(f"account.{kind}", account=account, actor=actor, ends_on=end.isoformat(),
                 kept=sorted(kept))
    webhooks.publish(f"account.{kind}", account, ended_on=end.isoformat(), kept=sorted(kept))
    report.add(kind, account, ends_on=end.isoformat())


def reinstate(account: Account, *, actor: str, reason: str) -> bool:
    """A deactivated or alumni account whose validity came back is fully active again."""
    from idp.messaging import webhooks

    if account.status != "expired" and account.alumni_since is None:
        return False
    end = validity.ends_on(account)
    if end is not None and end < clock.now().date():
        return False
    account.status, account.alumni_since = "active", None
    audit.record("account.reinstated", account=account, actor=actor, reason=reason)
    webhooks.publish("account.reinstated", account, reason=reason)
    return True


def may_sign_in(account, relying_party: str | None) -> str | None:
    """The LIFE error code that refuses this sign-in, or None. An expired account signs in
    nowhere; an alumni account only to the account page and its services' relying parties."""
    if account.status == "expired":
        return "LIFE-001"
    if getattr(account, "kind", "personal") == "nonpersonal":
        from idp.identity import nonpersonal

        return nonpersonal.refusal(account, relying_party)
    if getattr(account, "alumni_since", None) is None or not relying_party:
        return None
    from idp.identity import services

    return None if relying_party in services.relying_parties(account) else "LIFE-002"


def schedule(app) -> None:
    """Run the lifecycle from ``kleidi worker`` every ``LIFECYCLE_RUN_SECONDS``."""
    from idp import messaging

    every = app.config["LIFECYCLE_RUN_SECONDS"]
    if every:
        messaging.add_periodic(app, run, every)
