"""Interactions: a protocol request waiting for the person to log in.

A SAML or OIDC endpoint validates its request, calls :func:`begin` and, unless the current
session already satisfies the request, sends the browser to the login page with the
interaction's id. After login (and the post-login checks), the browser comes back to the
protocol's resume endpoint with the same id. Login is written once, here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Flask, Response, current_app, redirect, session, url_for
from flask_babel import lazy_gettext as _l

from idp import clock, sessions
from idp.errors import KleidiError, define
from idp.identity.models import Account
from idp.store import store

define("LOGIN-001", 200, _l("Wrong username or password"),
       _l("The username or the password is not right. Check both and try again."))
define("LOGIN-002", 429, _l("Too many attempts"),
       _l("There were too many failed attempts from your connection. Wait a little and try "
          "again; if you forgot your password, recover it instead."))
define("LOGIN-003", 403, _l("Account not active"),
       _l("This account is not active. If you have not activated it yet, activate it from the "
          "login page; otherwise contact the helpdesk."))
define("LOGIN-004", 400, _l("The login request has expired"),
       _l("Too much time passed, or the link was already used. Go back to the service you "
          "were using and start again."))
define("LOGIN-005", 403, _l("Account expired"),
       _l("The validity of this account has ended. If you are still a member of the "
          "institution, contact the helpdesk with proof of your role to extend it."))
define("LOGIN-006", 403, _l("Your password must be changed"),
       _l("Your password has to be replaced before you can continue. Set a new one with the "
          "forgotten-password link on the login page."))

#: A check gets the signed-in account: the request's SignedIn row, or the ORM Account.
Check = Callable[["sessions.SignedIn | Account", dict], Response | None]


def begin(protocol: str, payload: dict, resume_endpoint: str, **options) -> str:
    """Store a new interaction (see :func:`new` for ``options``) and return its id."""
    record = new(protocol, payload, resume_endpoint, **options)
    save(record)
    return record["id"]


def new(protocol: str, payload: dict, resume_endpoint: str, *, force_login: bool = False,
        max_age: int | None = None, relying_party: str | None = None,
        rp_name: str | None = None, release: dict[str, list[str]] | None = None,
        requested_acr: str | None = None) -> dict:
    """A new interaction, not yet stored: a request the session answers at once never needs
    to be (:func:`save` it before sending the browser anywhere)."""
    return {
        "id": secrets.token_urlsafe(24), "protocol": protocol, "payload": payload,
        "resume": resume_endpoint, "force_login": force_login, "max_age": max_age,
        "relying_party": relying_party, "rp_name": rp_name, "release": release or {},
        "requested_acr": requested_acr, "created": clock.timestamp(),
    }


def save(interaction: dict) -> None:
    """Write back a changed interaction, keeping its original lifetime."""
    ttl = current_app.config["INTERACTION_TTL_SECONDS"]
    left = ttl - (clock.timestamp() - interaction["created"])
    if left <= 0:
        raise KleidiError("LOGIN-004")
    store().put(f"interaction:{interaction['id']}", interaction, left)


def load(iid: str | None) -> dict:
    """The interaction ``iid``, or the error page if it is unknown or has expired."""
    record = store().get(f"interaction:{iid}") if iid and len(iid) < 100 else None
    if record is None:
        raise KleidiError("LOGIN-004")
    return record


def finish(iid: str) -> None:
    """Forget an interaction once the protocol has answered."""
    store().delete(f"interaction:{iid}")


def authenticated(force_login: bool = False, max_age: int | None = None,
                  since: int | None = None) -> sessions.SignedIn | None:
    """The account of the current session, if its login satisfies the request.

    ``force_login`` with ``since`` requires a login at or after ``since`` (the time the
    interaction began); ``max_age`` requires a login at most that many seconds ago.
    """
    account = sessions.signed_in()
    if account is None:
        return None
    auth_time = session.get("auth_time", 0)
    if force_login and (since is None or auth_time < since):
        return None
    if max_age is not None and clock.timestamp() - auth_time > max_age:
        return None
    return account


def account_for(interaction: dict) -> sessions.SignedIn | None:
    """The account whose login satisfies ``interaction`` (None: it must log in).

    An interaction that forces login is satisfied only by a login made for it.
    """
    if interaction["force_login"] and not interaction.get("login_done"):
        return None
    return authenticated(max_age=interaction["max_age"])


def redirect_to_login(iid: str) -> Response:
    return redirect(url_for("login.login", i=iid))


def register_check(app: Flask, check: Check, order: int) -> None:
    """Add a post-login check; lower ``order`` runs first.

    A check receives the signed-in account and the interaction (an empty dict when the
    person logs in without one) and returns a response that diverts the person (an error
    page, a self-service flow that comes back to ``/login/continue/<iid>``) or None to let
    the login proceed.
    """
    checks = app.extensions.setdefault("kleidi.checks", [])
    checks.append((order, check))
    checks.sort(key=lambda item: item[0])


def run_checks(account: Account, interaction: dict) -> Response | None:
    """The first diversion a post-login check asks for, or None when all pass."""
    for _order, check in current_app.extensions.get("kleidi.checks", []):
        response = check(account, interaction)
        if response is not None:
            return response
    return None


def register_logout(app: Flask, handler: Callable[[], Response | None]) -> None:
    """Let a protocol take part in logout from the IdP's own logout page.

    ``handler()`` runs (in registration order) when the person confirms logout; it may end
    the session itself and return a response that tells its relying parties (a front-channel
    propagation page), or return None when the session has nothing of that protocol.
    """
    app.extensions.setdefault("kleidi.logout_handlers", []).append(handler)


def protocol_logout() -> Response | None:
    """The first response a protocol's logout handler gives, or None."""
    for handler in current_app.extensions.get("kleidi.logout_handlers", []):
        response = handler()
        if response is not None:
            return response
    return None
