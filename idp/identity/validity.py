"""How long an account is valid: computed from its person's affiliations, by role.

The policy is configuration (``VALIDITY``): per role a rule — ``"life"`` (no end),
``"active"`` (until the registry ends the affiliation), ``"contract"`` (until the contract's
end date) or ``{"years": N}`` (N years from activation) — and the services that survive the
end (``keeps``; students keep their email, so their account moves to the alumni state rather
than being deactivated). A role the registry ends without notice (a graduation) keeps the
account valid ``LIFECYCLE_NOTICE_DAYS`` more, so that the warnings come ahead of the end.
An account's end is the latest of its affiliations' ends and of any extension the account
office recorded: one open-ended affiliation means no end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from idp import db
from idp.identity.models import Account, Affiliation

LIFE, ACTIVE, CONTRACT = "life", "active", "contract"


def policy(role: str) -> dict:
    """The validity policy of ``role`` (an unknown role: while active, nothing kept)."""
    return current_app.config["VALIDITY"].get(role, {"rule": ACTIVE})


def affiliation_end(account: Account, affiliation: Affiliation) -> date | None:
    """The last valid day that ``affiliation`` gives the account; None: no end."""
    rule = policy(affiliation.role)["rule"]
    if affiliation.status != "active":
        ended = affiliation.valid_through or affiliation.valid_from or date.min
        if rule in (ACTIVE, LIFE) and ended != date.min:  # ended by the registry, unannounced
            return ended + timedelta(days=current_app.config["LIFECYCLE_NOTICE_DAYS"])
        return ended
    if rule == LIFE:
        return None
    if rule == CONTRACT or (rule == ACTIVE and affiliation.valid_through):
        return affiliation.valid_through
    if isinstance(rule, dict):
        start = account.activated_at.date() if account.activated_at else affiliation.valid_from
        return add_years(start, rule["years"]) if start else None
    return None


def counted(affiliation: Affiliation) -> bool:
    """Alumni affiliations give the alumni state, not validity."""
    return not policy(affiliation.role).get("alumni")


def ends_on(account: Account) -> date | None:
    """The account's last valid day, or None when it has no end (or nothing to end)."""
    from idp.identity import extensions

    ends = [affiliation_end(account, a) for a in _affiliations(account) if counted(a)]
    extended = extensions.latest(account)
    if extended is not None:
        ends.append(extended.until)
    if not ends or any(end is None for end in ends):
        return None
    return max(ends)


def kept_services(account: Account) -> set[str]:
    """Services that survive the end of the account's affiliations (its alumni services)."""
    kept: set[str] = set()
    for affiliation in _affiliations(account):
        kept |= set(policy(affiliation.role).get("keeps", ()))
        if policy(affiliation.role).get("alumni") and affiliation.status == "active":
            kept.add("alumni")
    return kept


def refresh(account: Account) -> date | None:
    """Store the account's end (``expires_at``, the end of its last day, UTC); return it."""
    end = ends_on(account)
    account.expires_at = None if end is None else datetime.combine(end, time(23, 59, 59),
                                                                   tzinfo=UTC)
    return end


def add_years(start: date, years: int) -> date:
    """``start`` plus whole years (29 February becomes 28 February)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def _affiliations(account: Account) -> list[Affiliation]:
    return list(db.session().scalars(sa.select(Affiliation).where(
        Affiliation.person_id == account.person_id).order_by(Affiliation.id)))
