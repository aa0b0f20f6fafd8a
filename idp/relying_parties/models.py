"""Tables of relying-party registration: what an RP admin asked for, and what was approved."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base

KINDS = ("saml", "oidc")
STATES = ("draft", "submitted", "approved", "rejected", "active")


class Moment(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite hands back naive ones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class RelyingParty(Base):
    """One service registered through the portal: a SAML SP or an OIDC client.

    ``requested`` is the version its owners edit and submit: ``settings`` (the SP's metadata,
    or the client's URIs and methods), ``attributes`` (internal name -> the reason given),
    ``names`` ({"el", "en"}) and ``contacts`` ({"technical", "security"}). ``approved`` is the
    version in use since the last approval (its settings and the ``release`` the operators
    set), or None before the first: an edit of an active RP changes ``requested`` only, so
    the approved version keeps working while the edit waits for review.
    """

    __tablename__ = "relying_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    #: The SP's entityID or the client's client_id.
    identifier: Mapped[str] = mapped_column(sa.String(1024), unique=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    requested: Mapped[dict] = mapped_column(sa.JSON)
    approved: Mapped[dict | None] = mapped_column(sa.JSON)
    #: SHA-256 of an OIDC client's secret, shown once at registration (None for SAML and
    #: public clients); given to the client when it is first published.
    secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: Why the last submission was rejected (shown to the owners).
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(Moment)
    updated_at: Mapped[datetime] = mapped_column(Moment)
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {KINDS}", name="relying_party_kind"),
        sa.CheckConstraint(f"state IN {STATES}", name="relying_party_state"),
    )


class RelyingPartyOwner(Base):
    """An account that may edit one RP and is told about its review."""

    __tablename__ = "relying_party_owner"

    relying_party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("relying_party.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True,
                                            index=True)
    added_at: Mapped[datetime] = mapped_column(Moment)
