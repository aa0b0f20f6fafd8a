"""The hand-over: a one-time set-password link, emailed to the applicant and printable as a
code, with which the applicant chooses their password. The office never knows a password.

A code is 20 characters (about 99 bits) from the CSPRNG; only its keyed hash is stored. It
works once (consumed atomically), for ``HANDOVER_LINK_SECONDS`` (72 hours by default), and a
new hand-over replaces it. Codes tried from one address are limited per hour.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from idp import clock, db, errors
from idp.credentials.password_policy import policy
from idp.identity import accounts, validity
from idp.identity.applications import codewords, history
from idp.identity.applications.models import HANDED_OVER, VERIFIED, Application, HandOver
from idp.identity.applications.office import find
from idp.identity.models import Account
from idp.store import store

PURPOSE = "handover"


def hand_over(serial: str, *, actor: str) -> str | None:
    """Issue the set-password code of a verified application and email the link; the code
    (for printing). None when the application was linked to an account that already has a
    password (the applicant keeps signing in with it). APPLY-004 before verification,
    APPLY-015 once the account's password is set."""
    application = find(serial, lock=True)
    if application.status not in (VERIFIED, HANDED_OVER):
        raise errors.KleidiError("APPLY-004", serial=serial, status=application.status)
    account = db.session().get(Account, application.account_id)
    if account.password_hash is not None:
        if application.status == HANDED_OVER:
            raise errors.KleidiError("APPLY-015", serial=serial)
        history.transition(application, HANDED_OVER, actor=actor, note="existing account",
                           email={"username": account.username, "code": None})
        return None
    now = clock.now()
    db.session().execute(sa.update(HandOver).where(
        HandOver.application_id == application.id, HandOver.used_at.is_(None),
        HandOver.expires_at > now).values(expires_at=now))
    code = codewords.new(5)
    seconds = current_app.config["HANDOVER_LINK_SECONDS"]
    db.session().add(HandOver(application_id=application.id, account_id=account.id,
                              digest=codewords.digest(PURPOSE, code), actor=actor,
                              created_at=now, expires_at=now + timedelta(seconds=seconds)))
    base = current_app.config["BASE_URL"].rstrip("/")
    history.transition(application, HANDED_OVER, actor=actor, email={
        "username": account.username, "code": code, "hours": seconds // 3600,
        "link": f"{base}/apply/password?code={code}"})
    return code


def lifetime_hours() -> int:
    """How many hours a set-password code works (HANDOVER_LINK_SECONDS)."""
    return current_app.config["HANDOVER_LINK_SECONDS"] // 3600


def open_code(code: str, ip: str | None) -> HandOver:
    """The live hand-over of ``code``; APPLY-009 if unknown, used or expired, APPLY-010 past
    the per-address hourly limit of codes tried."""
    limit = current_app.config["HANDOVER_CODE_TRIES_PER_IP_HOUR"]
    if ip and store().incr(f"apply:code:{ip}", 3600) > limit:
        raise errors.KleidiError("APPLY-010")
    found = db.session().scalar(sa.select(HandOver).where(
        HandOver.digest == codewords.digest(PURPOSE, code)))
    if found is None or found.used_at is not None or _expired(found):
        raise errors.KleidiError("APPLY-009")
    return found


def _expired(handover: HandOver) -> bool:
    expires_at = handover.expires_at
    if expires_at.tzinfo is None:  # SQLite gives naive datetimes, stored as UTC
        expires_at = expires_at.replace(tzinfo=clock.now().tzinfo)
    return expires_at <= clock.now()


def account_of(handover: HandOver) -> Account:
    return db.session().get(Account, handover.account_id)


def password_problems(handover: HandOver, password: str, confirmation: str) -> list[str]:
    """What the activation password policy says about ``password`` for this account."""
    account = account_of(handover)
    person = account.person
    names = (person.given_name_el, person.family_name_el, person.given_name_en,
             person.family_name_en)
    return policy().problems(password, confirmation, username=account.username, names=names)


def set_password(handover: HandOver, password: str) -> Account:
    """Use the code (once: of two simultaneous uses one wins, the other gets APPLY-009),
    set the password, activate the account; committed."""
    session = db.session()
    try:
        used = session.execute(sa.update(HandOver).where(
            HandOver.id == handover.id, HandOver.used_at.is_(None))
            .values(used_at=clock.now())).rowcount
        if used != 1:
            raise errors.KleidiError("APPLY-009")
        account = account_of(handover)
        account.status, account.activated_at = "active", clock.now()
        accounts.set_password(account, password, actor="applicant")
        validity.refresh(account)
        application = session.get(Application, handover.application_id)
        history.record("application.password_set", application, actor="applicant")
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return account
