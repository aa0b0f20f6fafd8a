"""An account's standing in the lifecycle, as the account page, the operators and
``kleidi account show`` see it: status, state, validity, services, the last extension."""

from __future__ import annotations

from idp.identity import extensions, services, validity
from idp.identity.models import Account


def state(account: Account) -> str:
    """"active", "alumni", "expired" (deactivated by the lifecycle), "disabled" or
    "pending"."""
    if account.status == "active" and account.alumni_since is not None:
        return "alumni"
    return account.status


def of(account: Account) -> dict:
    """Plain data (JSON-ready) about the account's lifecycle."""
    end = validity.ends_on(account)
    extension = extensions.latest(account)
    return {
        "username": account.username,
        "status": account.status,
        "state": state(account),
        "valid_until": end.isoformat() if end else None,
        "alumni_since": account.alumni_since.isoformat() if account.alumni_since else None,
        "services": services.enabled(account),
        "entitlements": services.entitlements(account),
        "extended": None if extension is None else {
            "until": extension.until.isoformat(), "evidence": extension.evidence,
            "by": extension.actor, "at": extension.at.isoformat()},
    }
