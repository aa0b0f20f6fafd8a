"""The domain of an account: from its person's roles (``ROLE_DOMAINS``), and when the roles
entitle one personal account to several domains, the first of ``DOMAIN_PRECEDENCE``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from idp import audit, db
from idp.identity.models import Account, Affiliation


def of_role(role: str) -> str:
    """The domain ``role`` entitles an account to."""
    domains = current_app.config["ROLE_DOMAINS"]
    return domains.get(role, domains["*"])


def of_roles(roles: list[str]) -> str:
    """The one domain of a personal account whose person holds ``roles``."""
    entitled = [of_role(role) for role in roles] or [of_role("*")]
    order = current_app.config["DOMAIN_PRECEDENCE"]
    return min(entitled, key=lambda domain: order.index(domain) if domain in order else len(order))


def refresh(account: Account, *, actor: str) -> str:
    """Set the domain of ``account`` from its person's active roles (alumni roles aside,
    which entitle to no domain of their own); audited when it changes. The domain."""
    roles = [role for role in db.session().scalars(sa.select(Affiliation.role).where(
        Affiliation.person_id == account.person_id, Affiliation.status == "active"))
        if not current_app.config["VALIDITY"].get(role, {}).get("alumni")]
    if roles and of_roles(roles) != account.domain:
        audit.record("account.domain_changed", account=account, actor=actor,
                     old=account.domain, new=of_roles(roles))
        account.domain = of_roles(roles)
    return account.domain
