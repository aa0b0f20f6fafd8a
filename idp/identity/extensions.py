"""Extensions by proof: the account office records the evidence that a person is still a
member and a new end date; a deactivated account that gets one is active again.

The evidence kinds, and the roles each proves, are configuration (``EVIDENCE``): a certificate
of studies for students; the scientific supervisor's certificate (sent from an institutional
address) with a solemn declaration for postdocs, researchers and contractors; the contract;
the appointment decision.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from idp import audit, clock, db
from idp.db import Base
from idp.identity.models import Account

LABELS = {
    "certificate_of_studies": _l("a certificate of studies from your department's secretariat"),
    "supervisor_certificate_and_declaration": _l(
        "a certificate from your scientific supervisor, sent from an institutional address, "
        "and a solemn declaration through gov.gr"),
    "contract": _l("the contract (or, while it awaits signature, the supervisor's certificate "
                   "and a declaration)"),
    "appointment_decision": _l("the appointment decision"),
}


def label(kind: str):
    """What a kind of evidence is, in words."""
    return LABELS.get(kind, kind)


class Extension(Base):
    """One extension of an account, with the evidence the office saw."""

    __tablename__ = "account_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    until: Mapped[date]
    evidence: Mapped[str] = mapped_column(sa.String(60))
    note: Mapped[str] = mapped_column(sa.String(500))
    actor: Mapped[str] = mapped_column(sa.String(60))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)


class ExtensionRefused(ValueError):
    """The extension cannot be recorded; ``code`` is its LIFE error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def evidence_kinds() -> dict[str, list[str]]:
    """Evidence kind -> the roles it proves (configuration)."""
    return current_app.config["EVIDENCE"]


def latest(account: Account) -> Extension | None:
    """The account's most recent extension, if any."""
    return db.session().scalar(sa.select(Extension).where(Extension.account_id == account.id)
                               .order_by(Extension.at.desc(), Extension.id.desc()).limit(1))


def extend(account: Account, *, until: date, evidence: str, note: str, actor: str) -> Extension:
    """Record the evidence and the new end; reactivate a deactivated account (the caller
    commits). Refused: an unknown evidence kind, a date not in the future, no note."""
    from idp.identity import lifecycle, validity

    if evidence not in evidence_kinds():
        raise ExtensionRefused("LIFE-003", f"evidence must be one of {', '.join(evidence_kinds())}")
    if until <= clock.now().date():
        raise ExtensionRefused("LIFE-004", "the new end date must be in the future")
    if not note.strip():
        raise ExtensionRefused("LIFE-005", "a note saying what was checked is required")
    if account.status == "disabled":
        raise ExtensionRefused("LIFE-006", "a disabled account is enabled by the helpdesk first")
    entry = Extension(account_id=account.id, until=until, evidence=evidence,
                      note=note.strip()[:500], actor=actor, at=clock.now())
    db.session().add(entry)
    db.session().flush()
    audit.record("account.extended", account=account, actor=actor, until=until.isoformat(),
                 evidence=evidence)
    validity.refresh(account)
    lifecycle.reinstate(account, actor=actor, reason="extension")
    return entry
