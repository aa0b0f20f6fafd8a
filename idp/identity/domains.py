"""The domain of an account: from its person's roles (``ROLE_DOMAINS``), and when the roles
entitle one personal account to several domains, the first of ``DOMAIN_PRECEDENCE``."""

from __future__ import annotations

from flask import current_app


def of_role(role: str) -> str:
    """The domain ``role`` entitles an account to."""
    domains = current_app.config["ROLE_DOMAINS"]
    return domains.get(role, domains["*"])


def of_roles(roles: list[str]) -> str:
    """The one domain of a personal account whose person holds ``roles``."""
    entitled = [of_role(role) for role in roles] or [of_role("*")]
    order = current_app.config["DOMAIN_PRECEDENCE"]
    return min(entitled, key=lambda domain: order.index(domain) if domain in order else len(order))
