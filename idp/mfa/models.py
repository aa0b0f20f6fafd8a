"""Second-factor tables: one TOTP authenticator per account and its recovery codes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from idp import clock
from idp.db import Base


class TotpAuthenticator(Base):
    """A TOTP secret (encrypted with the MFA key, bound to its account) and its state.

    Unconfirmed until the person enters a first code from their app; only a confirmed
    authenticator makes the account ask for a second factor at login.
    """

    __tablename__ = "totp_authenticator"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), unique=True)
    secret_sealed: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class RecoveryCode(Base):
    """A single-use recovery code, stored as a keyed hash (HMAC-SHA256), never in clear."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.UniqueConstraint("account_id", "digest", name="recovery_code_key"),)
