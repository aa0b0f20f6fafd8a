"""The identity model: people, their roles, their accounts and the registries' rows."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp import clock
from idp.db import Base

ACCOUNT_STATUSES = ("pending", "active", "disabled", "expired")
ACCOUNT_KINDS = ("personal", "nonpersonal")


class Person(Base):
    """One natural person. The AcademicID is theirs for life and never shown to them."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    given_name_el: Mapped[str] = mapped_column(sa.String(100), default="")
    family_name_el: Mapped[str] = mapped_column(sa.String(100), default="")
    given_name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    family_name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    birth_date: Mapped[date | None]
    amka: Mapped[str | None] = mapped_column(sa.String(11), unique=True)
    foreign_ssn: Mapped[str | None] = mapped_column(sa.String(40))
    foreign_ssn_country: Mapped[str | None] = mapped_column(sa.String(2))
    ehic: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)

    affiliations: Mapped[list[Affiliation]] = relationship(back_populates="person")
    accounts: Mapped[list[Account]] = relationship(back_populates="person")

    __table_args__ = (
        sa.CheckConstraint("length(academic_id) BETWEEN 1 AND 64", name="academic_id_length"),
    )


class Affiliation(Base):
    """A role of a person, as a registry states it."""

    __tablename__ = "affiliation"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(40))
    department_id: Mapped[str | None] = mapped_column(sa.String(20))
    registration_id: Mapped[str | None] = mapped_column(sa.String(40))
    source_registry: Mapped[str] = mapped_column(sa.String(20))
    registry_record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registry_record.id"))
    valid_from: Mapped[date | None]
    valid_through: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(20), default="active")

    person: Mapped[Person] = relationship(back_populates="affiliations")


class Account(Base):
    """A username and password. At most one personal account per person (a unique index)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    domain: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(20), default="personal")
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    password_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    session_epoch: Mapped[int] = mapped_column(default=0)
    mobile: Mapped[str | None] = mapped_column(sa.String(20))
    external_email: Mapped[str | None] = mapped_column(sa.String(254))
    #: The language of the last sign-in (el, en): notices nobody asked for are written in it.
    language: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now
    )
    activated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: Set when the affiliations ended but services survive (students' email): the account
    #: signs in only to the account page and the relying parties of those services.
    alumni_since: Mapped[date | None]

    person: Mapped[Person] = relationship(back_populates="accounts")

    __table_args__ = (
        sa.CheckConstraint(f"status IN {ACCOUNT_STATUSES}", name="status"),
        sa.CheckConstraint(f"kind IN {ACCOUNT_KINDS}", name="kind"),
        sa.Index(
            "uq_account_one_personal",
            "person_id",
            unique=True,
            sqlite_where=sa.text("kind = 'personal'"),
            postgresql_where=sa.text("kind = 'personal'"),
        ),
    )

    @property
    def eppn(self) -> str:
        return f"{self.username}@{self.domain}"


class RegistryRecord(Base):
    """A row of the student (SIS) or HR registry, as last imported."""

    __tablename__ = "registry_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_registry: Mapped[str] = mapped_column(sa.String(20))
    registration_id: Mapped[str] = mapped_column(sa.String(40))
    department_id: Mapped[str | None] = mapped_column(sa.String(20))
    first_name_el: Mapped[str] = mapped_column(sa.String(100), default="")
    last_name_el: Mapped[str] = mapped_column(sa.String(100), default="")
    first_name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    last_name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    father_first_name_el: Mapped[str] = mapped_column(sa.String(100), default="")
    birth_date: Mapped[date | None]
    ssn: Mapped[str | None] = mapped_column(sa.String(40))
    ssn_country: Mapped[str | None] = mapped_column(sa.String(2))
    tin: Mapped[str | None] = mapped_column(sa.String(20))
    tin_country: Mapped[str | None] = mapped_column(sa.String(2))
    ext_email: Mapped[str | None] = mapped_column(sa.String(254))
    mobile_phone: Mapped[str | None] = mapped_column(sa.String(20))
    enrollment_status: Mapped[str | None] = mapped_column(sa.String(20))
    enrollment_type: Mapped[str | None] = mapped_column(sa.String(20))
    inscription_ac_year: Mapped[str | None] = mapped_column(sa.String(9))
    role: Mapped[str] = mapped_column(sa.String(40))
    contract_start: Mapped[date | None]
    contract_end: Mapped[date | None]
    #: An AcademicID the registry already knows for the person (it wins over issuing one).
    academic_id: Mapped[str | None] = mapped_column(sa.String(64))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    imported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)

    __table_args__ = (sa.UniqueConstraint("source_registry", "registration_id", name="registry_key"),)
