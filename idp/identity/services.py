"""Services an account can use (email, mailing lists, VPN, eduroam, e-secretariat, software
licences...) and the entitlements they give.

The catalogue is configuration (``SERVICES``): who is eligible (by role, ``"*"`` for every
role), who has it by default, whether it survives the end of the affiliations, its
eduPersonEntitlement value and the relying parties it is reached through. A person's own
choice (enable or disable) is kept per account; without one, the default of their roles
applies. An account in the alumni state keeps only the services that survive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from idp import audit, clock, db
from idp.db import Base
from idp.identity.models import Affiliation

LABELS = {
    "email": _l("Email"),
    "mailing_lists": _l("Mailing lists"),
    "vpn": _l("VPN"),
    "eduroam": _l("eduroam"),
    "esecretariat": _l("E-secretariat"),
    "software": _l("Software licences"),
    "alumni": _l("Alumni services"),
}


class AccountService(Base):
    """A person's own choice about one service of their account."""

    __tablename__ = "account_service"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True)
    service: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    enabled: Mapped[bool]
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)


@dataclass(frozen=True)
class Service:
    """One service as it stands for one account."""

    name: str
    label: object
    enabled: bool
    survives: bool


class ServiceRefused(ValueError):
    """The account may not use this service (not eligible, or the account is not usable)."""


def catalogue() -> dict[str, dict]:
    return current_app.config["SERVICES"]


def label(name: str):
    return LABELS.get(name, name)


# Prepared once: every answer to a relying party reads them (for eduPersonEntitlement).
_ROLES = sa.select(Affiliation.role).where(Affiliation.person_id == sa.bindparam("person_id"),
                                           Affiliation.status == "active")
_CHOICES = sa.select(AccountService.service, AccountService.enabled).where(
    AccountService.account_id == sa.bindparam("account_id"))


def _roles(account) -> list[str]:
    return [row.role for row in db.read(_ROLES, person_id=account.person_id)]


def _matches(roles: list[str], allowed: list[str]) -> bool:
    return "*" in allowed or any(role in allowed for role in roles)


def eligible(account, roles: list[str] | None = None) -> list[str]:
    """The services the account may have, in catalogue order (``roles``: its active roles,
    when already read)."""
    if account.status != "active":
        return []
    from idp.identity import validity

    if getattr(account, "kind", "personal") == "nonpersonal":
        return [name for name in current_app.config["NONPERSONAL_SERVICES"] if name in catalogue()]
    roles = _roles(account) if roles is None else roles
    if getattr(account, "alumni_since", None) is not None:
        kept = validity.kept_services(account)
        return [name for name, entry in catalogue().items()
                if entry.get("survives") and name in kept]
    return [name for name, entry in catalogue().items() if _matches(roles, entry["eligible"])]


def states(account, roles: list[str] | None = None) -> list[Service]:
    """Every service the account is eligible for, with whether it is on."""
    choices = dict(db.read(_CHOICES, account_id=account.id))
    roles = _roles(account) if roles is None else roles
    found = []
    for name in eligible(account, roles):
        entry = catalogue()[name]
        on = choices.get(name, _matches(roles, entry.get("default", [])))
        found.append(Service(name, label(name), bool(on), bool(entry.get("survives"))))
    return found


def enabled(account, roles: list[str] | None = None) -> list[str]:
    """The names of the services that are on for the account."""
    return [service.name for service in states(account, roles) if service.enabled]


def entitlements(account, roles: list[str] | None = None) -> list[str]:
    """eduPersonEntitlement values of the account's services that are on (``roles``: the
    active roles, when the caller has read them already)."""
    scope, entries = current_app.config["SCOPE"], catalogue()
    return [entries[name]["entitlement"].format(domain=scope)
            for name in enabled(account, roles) if entries[name].get("entitlement")]


def relying_parties(account) -> set[str]:
    """The relying parties reached through the account's services that are on."""
    return {rp for name in enabled(account) for rp in catalogue()[name].get("relying_parties", [])}


def set_enabled(account, name: str, on: bool, *, actor: str = "user") -> bool:
    """Turn a service on or off (the caller commits); False if nothing changed."""
    from idp.messaging import webhooks

    current = {service.name: service.enabled for service in states(account)}
    if name not in current:
        raise ServiceRefused(f"the account is not eligible for {name}")
    if current[name] == on:
        return False
    row = db.session().get(AccountService, (account.id, name))
    if row is None:
        row = AccountService(account_id=account.id, service=name)
        db.session().add(row)
    row.enabled, row.changed_at = on, clock.now()
    event = "service.enabled" if on else "service.disabled"
    audit.record(event, account=account, actor=actor, service=name)
    webhooks.publish(event, account, service=name)
    return True
