"""What the login page says when the guessing defences refuse an attempt, and the notice to
an account's owner when its per-account backoff starts (see :mod:`idp.credentials.throttle`).

The answers depend on the username typed, never on whether it exists or on the password: a
refused attempt is refused before its password is checked.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import lazy_gettext as _l

from idp import audit, clock, messaging
from idp.errors import define
from idp.identity.models import Account

log = logging.getLogger(__name__)

define("LOGIN-007", 429, _l("Sign-ins to this account are being slowed down"),
       _l("Many wrong passwords were typed for this account in browsers where it has never "
          "been used, so such browsers must wait between attempts. Wait and try again, or sign "
          "in from a browser you have used before."))
define("LOGIN-008", 403, _l("Sign-in from new browsers is blocked for this account"),
       _l("Too many wrong passwords were typed for this account in browsers where it has never "
          "been used. Sign in from a browser you have used before, or set a new password with "
          "the forgotten-password link: that lifts the block."))


def backoff_started(account: Account | None) -> None:
    """The account's backoff for unknown browsers just started: audit it and tell the owner
    by email, in the language of their last sign-in (the caller commits)."""
    log.warning("login backoff started for an account",
                extra={"account_id": account.id if account else None})
    if account is None:
        return
    failures = current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    audit.record("login.backoff_started", account=account, actor="anonymous", failures=failures)
    if not account.external_email:
        return
    language = account.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    config = current_app.config
    messaging.enqueue(
        "email", account.external_email, "login_throttled", language,
        username=account.username, count=failures, support=config["SUPPORT_EMAIL"],
        when=clock.now().strftime("%Y-%m-%d %H:%M UTC"),
        organization=config[f"ORGANIZATION_NAME_{language.upper()}"])
