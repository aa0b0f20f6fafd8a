"""Helpers for tests of the second factor: enrol an account, compute its current codes."""

from __future__ import annotations

import time

import pyotp
import sqlalchemy as sa

from idp import db
from idp.identity.models import Account
from idp.mfa import totp


def account(username: str) -> Account:
    return db.session().scalar(sa.select(Account).where(Account.username == username))


def code(app, secret: str, steps: int = 0) -> str:
    """The TOTP code of ``secret`` at the app's current time, ``steps`` steps later."""
    moment = time.time() + app.config.get("CLOCK_OFFSET_SECONDS", 0) + 30 * steps
    return pyotp.TOTP(secret).at(moment)


def enrol(app, clock, username: str) -> tuple[str, list[str]]:
    """Enrol and confirm a TOTP app for ``username``; then move past the confirming code's
    time step, as a person does before their next login. Returns (secret, recovery codes)."""
    with app.test_request_context():
        secret = totp.begin_enrolment(account(username))
        db.session().commit()
        codes = totp.confirm(account(username), code(app, secret))
        db.session().commit()
    clock.advance(30)
    return secret, codes


def second_step(client, csrf, value: str):
    page = client.get("/login/second-factor")
    return client.post("/login/second-factor", data={"csrf_token": csrf(page), "code": value})
