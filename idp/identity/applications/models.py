"""Staff applications: the application, its history, the office's identity checks and the
hand-over's one-time set-password codes."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from idp import clock
from idp.db import Base

#: An application's states: submitted -> account_created -> verified -> handed_over, or
#: rejected (before an account exists).
SUBMITTED, ACCOUNT_CREATED, VERIFIED, HANDED_OVER, REJECTED = (
    "submitted", "account_created", "verified", "handed_over", "rejected")
STATUSES = (SUBMITTED, ACCOUNT_CREATED, VERIFIED, HANDED_OVER, REJECTED)


class Application(Base):
    """One application for a staff account, numbered per year (``2026-000123``)."""

    __tablename__ = "staff_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(20), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=SUBMITTED, index=True)
    role: Mapped[str] = mapped_column(sa.String(40))
    given_name_el: Mapped[str] = mapped_column(sa.String(100))
    family_name_el: Mapped[str] = mapped_column(sa.String(100))
    given_name_en: Mapped[str] = mapped_column(sa.String(100))
    family_name_en: Mapped[str] = mapped_column(sa.String(100))
    father_name: Mapped[str] = mapped_column(sa.String(100))
    unit: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254))
    mobile: Mapped[str] = mapped_column(sa.String(20))
    amka: Mapped[str | None] = mapped_column(sa.String(11))
    document_kind: Mapped[str] = mapped_column(sa.String(30))
    document_number: Mapped[str] = mapped_column(sa.String(40))
    contract_start: Mapped[date | None]
    contract_end: Mapped[date | None]
    supervisor: Mapped[str | None] = mapped_column(sa.String(200))
    #: The applicant's language (el, en): every email about the application is written in it.
    language: Mapped[str] = mapped_column(sa.String(5), default="el")
    #: A keyed hash of the status secret (never the secret).
    secret_digest: Mapped[str] = mapped_column(sa.String(64))
    registry_record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registry_record.id"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now,
                                                 onupdate=clock.now)

    __table_args__ = (sa.CheckConstraint(f"status IN {STATUSES}", name="status"),)


class ApplicationEvent(Base):
    """One step of an application's history, as the applicant's status page shows it."""

    __tablename__ = "staff_application_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_application.id"),
                                                index=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    actor: Mapped[str] = mapped_column(sa.String(60))
    note: Mapped[str | None] = mapped_column(sa.String(500))


class ApplicationCounter(Base):
    """The last serial number given in a year."""

    __tablename__ = "staff_application_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Verification(Base):
    """Who checked which identity document (and which further evidence) when."""

    __tablename__ = "staff_application_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_application.id"),
                                                index=True)
    document_kind: Mapped[str] = mapped_column(sa.String(30))
    document_number: Mapped[str] = mapped_column(sa.String(40))
    evidence: Mapped[list] = mapped_column(sa.JSON, default=list)
    actor: Mapped[str] = mapped_column(sa.String(60))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)


class HandOver(Base):
    """A one-time set-password code of a hand-over (a keyed hash of it)."""

    __tablename__ = "staff_handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_application.id"),
                                                index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    actor: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
