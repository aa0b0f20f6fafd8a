"""Consent to release attributes to a relying party, shared by SAML and OIDC."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Mapped, mapped_column

from idp import audit, clock, db
from idp.db import Base
from idp.identity.models import Account


class Consent(Base):
    """A person's decision to release named attributes to one relying party."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    relying_party: Mapped[str] = mapped_column(sa.String(500))
    attribute_names: Mapped[list] = mapped_column(sa.JSON, default=list)
    granted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)

    __table_args__ = (sa.UniqueConstraint("account_id", "relying_party", name="consent_key"),)


def has_consent(account: Account, relying_party: str, names) -> bool:
    """True if the person agreed to release at least ``names`` to ``relying_party``."""
    rows = db.read(_GRANTED, account_id=account.id, relying_party=relying_party)
    return bool(rows) and set(names) <= set(rows[0].attribute_names)


# prepared once: this runs on every answer to a relying party
_GRANTED = sa.select(Consent.attribute_names).where(
    Consent.account_id == sa.bindparam("account_id"),
    Consent.relying_party == sa.bindparam("relying_party"))


def grant(account: Account, relying_party: str, names) -> None:
    """Record agreement to release ``names`` (the caller commits)."""
    row = _find(account, relying_party)
    if row is None:
        row = Consent(account_id=account.id, relying_party=relying_party)
        db.session().add(row)
    row.attribute_names = sorted(set(names))
    row.granted_at = clock.now()
    audit.record("consent.granted", account=account, relying_party=relying_party,
                 attributes=row.attribute_names)


def on_withdraw(app: Flask, listener) -> None:
    """Run ``listener(account, relying_party)`` when consent is withdrawn, in the same
    transaction (an adapter stops releasing: OIDC revokes the client's refresh tokens)."""
    app.extensions.setdefault("kleidi.consent_withdrawn", []).append(listener)


def withdraw(account: Account, relying_party: str) -> bool:
    """Forget the decision: the next login to ``relying_party`` asks again (caller commits)."""
    row = _find(account, relying_party)
    if row is None:
        return False
    db.session().delete(row)
    audit.record("consent.withdrawn", account=account, relying_party=relying_party)
    for listener in current_app.extensions.get("kleidi.consent_withdrawn", []):
        listener(account, relying_party)
    return True


def on_display_name(app: Flask, source) -> None:
    """Register ``source(relying_party, language) -> str | None``: the name people know a
    relying party by, in ``language`` if it has one there (SAML: the SP's mdui:DisplayName;
    OIDC: the client's name), or None if ``relying_party`` is not one of the adapter's."""
    app.extensions.setdefault("kleidi.relying_party_names", []).append(source)


def display_name(relying_party: str, language: str, default: str | None = None) -> str:
    """What a page calls ``relying_party``: its name from the adapters, else ``default`` (the
    name its request gave), else the host of its identifier
    (``https://sp.example.org/shibboleth`` is "sp.example.org"), never a long id."""
    for source in current_app.extensions.get("kleidi.relying_party_names", []):
        name = source(relying_party, language)
        if name:
            return name
    return default or urlsplit(relying_party).hostname or relying_party


def list_for(account: Account) -> list[Consent]:
    return list(db.session().scalars(
        sa.select(Consent).where(Consent.account_id == account.id).order_by(Consent.granted_at)
    ))


def _find(account: Account, relying_party: str) -> Consent | None:
    return db.session().scalar(sa.select(Consent).where(
        Consent.account_id == account.id, Consent.relying_party == relying_party
    ))
