"""The second factor (TOTP) and what a login achieved: the core API for every protocol.

Protocol adapters ask two things:

* :func:`achieved_acr` ``(session)``: the REFEDS profile the current login meets, to report as
  the SAML ``AuthnContextClassRef`` or the OIDC ``acr`` claim;
* :func:`satisfies` ``(session, requested)``: whether it meets what a relying party asked for
  (SAML ``RequestedAuthnContext`` class refs, OIDC ``acr_values``). A login by password alone
  never meets ``https://refeds.org/profile/mfa``; a person without a second factor cannot
  meet it, and the adapter answers with its protocol's error (SAML ``NoAuthnContext``, OIDC
  ``unmet_authentication_requirements`` / ``login_required``).

An account with a confirmed authenticator never gets a session from its password alone: the
login page hands it to :func:`begin_second_step`, and the session starts only after a code
(``amr`` ``["pwd", "otp", "mfa"]``, ``acr`` REFEDS MFA). When an interaction asks for MFA and
the person's session came from a password alone (it began before they enrolled), the
post-login check :func:`step_up` asks for a code before going on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from flask import current_app, redirect, session, url_for
from flask_babel import lazy_gettext as _l

from idp import clock, errors, sessions
from idp.config import ConfigurationError
from idp.identity.models import Account
from idp.mfa import models  # noqa: F401  (registers the tables)

REFEDS_MFA = "https://refeds.org/profile/mfa"
REFEDS_SFA = "https://refeds.org/profile/sfa"
#: RFC 8176 methods of a login with password and TOTP (or a recovery code).
MFA_AMR = ["pwd", "otp", "mfa"]
PENDING = "mfa_pending"

errors.define("MFA-001", 400, _l("The login has expired"),
              _l("Too much time passed between the password and the code, or the login was "
                 "already completed. Log in again."))
errors.define("MFA-002", 403, _l("Too many wrong codes"),
              _l("A wrong code was entered too many times, so this login was stopped. Log in "
                 "again; if you lost your authenticator app, use one of your recovery codes."))
errors.define("MFA-003", 429, _l("Too many wrong codes for this account"),
              _l("The second step of this account was tried too often. Wait fifteen minutes "
                 "and try again. If this was not you, change your password."))
errors.define("MFA-004", 200, _l("Wrong code"),
              _l("That code is not right, or it was already used. Enter the current code from "
                 "your authenticator app, or one of your unused recovery codes."))
errors.define("MFA-005", 200, _l("This code was just used"),
              _l("Each code works once. Wait until your authenticator app shows the next code "
                 "(a new one every 30 seconds) and enter that one."))


def enrolled(account: Account) -> bool:
    """True if the account has a confirmed second factor."""
    from idp.mfa import totp

    return totp.authenticator(account) is not None


def achieved_acr(data: Mapping) -> str | None:
    """The REFEDS profile the login of session ``data`` meets (None: not signed in)."""
    if data.get("account_id") is None:
        return None
    if data.get("acr") == REFEDS_MFA and "otp" in (data.get("amr") or []):
        return REFEDS_MFA
    return REFEDS_SFA


def requested(values: str | Iterable[str] | None) -> list[str]:
    """Requested context values as a list (OIDC ``acr_values`` is space-separated)."""
    if not values:
        return []
    return values.split() if isinstance(values, str) else [v for v in values if v]


def satisfies(data: Mapping, acr: str | Iterable[str] | None) -> bool:
    """True if the login of session ``data`` meets one of the requested ``acr`` values.

    Nothing requested is always met. REFEDS MFA is met only after the second step; REFEDS
    SFA by any login. Other values are not known here: the adapter decides about them.
    """
    wanted = requested(acr)
    if not wanted:
        return True
    achieved = achieved_acr(data)
    if achieved is None:
        return False
    met = {REFEDS_SFA, REFEDS_MFA} if achieved == REFEDS_MFA else {REFEDS_SFA}
    return any(value in met for value in wanted)


def begin_second_step(account: Account, interaction: dict, *, step_up: bool = False):
    """Remember that ``account`` passed its password, and send the browser to the code page.

    The pending state lives in the session for ``MFA_PENDING_SECONDS``; the session id is
    rotated and any earlier login in this browser ends (unless this is a step-up of it).
    """
    if not step_up:
        keep = {k: v for k, v in session.items() if k in (*sessions.KEPT_AT_LOGIN, "flows")}
        session.clear()
        session.update(keep)
    session.rotate = True
    session[PENDING] = {
        "account_id": account.id, "epoch": account.session_epoch, "failures": 0,
        "until": clock.timestamp() + current_app.config["MFA_PENDING_SECONDS"],
        "iid": interaction.get("id"), "step_up": step_up,
    }
    return redirect(url_for("mfa.second_step"))


def step_up(account: Account, interaction: dict):
    """Post-login check: a relying party wants MFA and this session has not done it yet."""
    if REFEDS_MFA not in requested(interaction.get("requested_acr")):
        return None
    if achieved_acr(session) == REFEDS_MFA or not enrolled(account):
        return None
    return begin_second_step(account, interaction, step_up=True)


def load_key(config: dict) -> None:
    """Fill MFA_SECRET_KEY from KEYS_DIR/mfa_secret_key; generated outside production."""
    if config.get("MFA_SECRET_KEY"):
        return
    path = Path(config["KEYS_DIR"]) / "mfa_secret_key"
    if not path.exists():
        if config["ENV"] == "production":
            raise ConfigurationError(
                f"production needs KLEIDI_MFA_SECRET_KEY or the file {path} (a long random "
                "value; losing it makes every enrolled authenticator unusable)")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    config["MFA_SECRET_KEY"] = path.read_text().strip()
