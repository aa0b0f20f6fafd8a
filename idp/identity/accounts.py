"""Accounts: finding them, checking passwords, setting passwords."""

from __future__ import annotations

import sqlalchemy as sa

from idp import audit, clock, db
from idp.credentials import passwords, throttle
from idp.identity.models import Account


def find_by_username(username: str) -> Account | None:
    """The account with this username (case-insensitive, surrounding spaces ignored)."""
    name = username.strip().lower()
    if not name:
        return None
    return db.session().scalar(sa.select(Account).where(Account.username == name))


def authenticate(username: str, password: str) -> Account | None:
    """The account if the password matches; the same work is done for unknown usernames.

    A hash made with older argon2 parameters is replaced on success (the caller commits).
    """
    account = find_by_username(username)
    if account is None:
        passwords.dummy_verify(password)
        return None
    if not passwords.verify(account.password_hash, password):
        return None
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    return account


def password_problems(account: Account, password: str,
                      confirmation: str | None = None) -> list[str]:
    """Why the password policy refuses ``password`` for ``account`` (its username and the
    person's names count), as keys of ``password_policy.PROBLEMS``; empty if it is accepted."""
    from idp.credentials.password_policy import policy

    person = account.person
    return policy().problems(password, confirmation, username=account.username, names=(
        person.given_name_el, person.family_name_el, person.given_name_en, person.family_name_en))


def set_password(account: Account, password: str, *, actor: str = "user") -> None:
    """Store a new password hash, and end every other session of the account.

    Wrong passwords typed before no longer matter: the account's run of failures from unknown
    browsers ends too (a recovery is how an owner lifts a block of new browsers).
    """
    from idp import sessions

    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = clock.now()
    account.must_change_password = False
    sessions.bump_epoch(account)
    throttle.forget_account(account.username)
    audit.record("password.set", account=account, actor=actor)


def disable(account: Account, reason: str, actor: str) -> bool:
    """Disable the account at once (the caller commits): sign-in refused, every session
    ended, OIDC grants dead (their account's status and session epoch are checked on every
    use). False if it was already disabled."""
    from idp import sessions
    from idp.messaging import webhooks

    if account.status == "disabled":
        return False
    previous, account.status = account.status, "disabled"
    sessions.bump_epoch(account)
    audit.record("account.disabled", account=account, actor=actor, reason=reason,
                 previous=previous)
    webhooks.publish("account.disabled", account, reason=reason)
    return True


def enable(account: Account, reason: str, actor: str) -> bool:
    """Enable a disabled account again (the caller commits); False if it was not disabled."""
    from idp.messaging import webhooks

    if account.status != "disabled":
        return False
    account.status = "active"
    audit.record("account.enabled", account=account, actor=actor, reason=reason)
    webhooks.publish("account.enabled", account, reason=reason)
    return True
