"""Where a person can be reached to recover a password: the contacts registered with the
account and those the registries hold for them (the secretariat's records), each with where
it came from."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from idp import db
from idp.identity.models import Account, RegistryRecord

ACCOUNT, REGISTRY = "account", "registry"


@dataclass(frozen=True)
class Contact:
    channel: str  # "sms" or "email"
    value: str
    source: str  # ACCOUNT or REGISTRY
    registry: str | None = None  # which registry, for REGISTRY contacts


def recovery_contacts(account: Account) -> list[Contact]:
    """The account's own contacts, then the registries' ones not already among them."""
    found = []
    if account.mobile:
        found.append(Contact("sms", account.mobile, ACCOUNT))
    if account.external_email:
        found.append(Contact("email", account.external_email.lower(), ACCOUNT))
    for record in db.session().scalars(sa.select(RegistryRecord).where(
            RegistryRecord.person_id == account.person_id).order_by(RegistryRecord.id)):
        for channel, value in (("sms", record.mobile_phone),
                               ("email", (record.ext_email or "").lower())):
            if value and all(c.value != value for c in found):
                found.append(Contact(channel, value, REGISTRY, record.source_registry))
    return found


def matching(account: Account, channel: str, value: str) -> Contact | None:
    """The account's recovery contact equal to ``value`` on ``channel``, if any."""
    value = value.strip().lower() if channel == "email" else value.strip()
    return next((c for c in recovery_contacts(account)
                 if c.channel == channel and c.value == value), None)
