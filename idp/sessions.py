"""Server-side SSO sessions: an opaque cookie, the data in the store.

Flask's ``session`` is this session. The cookie holds a random id; the store holds the data
under a hash of that id, so a copy of the store holds no usable cookie. A session ends when
unused for SESSION_IDLE_SECONDS, SESSION_ABSOLUTE_SECONDS after it began, at logout, or when
its account's session epoch moves (a password change ends every other session).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, fields
from datetime import date, datetime

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from idp import clock, db, outages
from idp.identity.models import Account
from idp.store import store


class ServerSession(CallbackDict, SessionMixin):
    """The session data of one browser; ``sid`` is None until something is stored."""

    def __init__(self, initial=None, sid: str | None = None):
        def on_update(this):
            this.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.modified = False
        self.rotate = False
        #: The store failure met opening or saving it (the request then answers GEN-007,
        #: and nothing tries the store again for it).
        self.outage: BaseException | None = None


def _key(sid: str) -> str:
    return "session:" + hashlib.sha256(sid.encode()).hexdigest()


class StoreSessionInterface(SessionInterface):
    """Keeps Flask's session in Kleidi's store."""

    def open_session(self, app, request):
        sid = request.cookies.get(host_cookie_name(app.config["SESSION_COOKIE_NAME"], app))
        if not sid or len(sid) > 100:
            return ServerSession()
        try:
            data = store().get(_key(sid))
        except outages.CANDIDATES as error:
            if outages.dependency_of(error) is None:
                raise
            unavailable = ServerSession()
            unavailable.outage = error
            return unavailable
        if data is None or _expired(app, data):
            return ServerSession()
        return ServerSession(data, sid)

    def save_session(self, app, session, response):
        if session.outage is not None:
            return
        try:
            self._save(app, session, response)
        except outages.CANDIDATES as error:
            session.outage = error  # the GEN-007 page that follows saves nothing
            raise

    def _save(self, app, session, response):
        name = host_cookie_name(app.config["SESSION_COOKIE_NAME"], app)
        if not session:
            if session.sid:
                store().delete(_key(session.sid))
                # A "__Host-" cookie is only replaced (here: expired) by a Secure one.
                response.delete_cookie(name, path="/", secure=over_https(app), httponly=True)
            return
        now = clock.timestamp()
        touched = now - session.get("_seen", 0) >= app.config["SESSION_TOUCH_SECONDS"]
        if not (session.modified or session.rotate or touched or session.sid is None):
            return
        if session.rotate or session.sid is None:
            if session.sid:
                store().delete(_key(session.sid))
            session.sid = secrets.token_urlsafe(32)
        session.setdefault("_created", now)
        session["_seen"] = now
        left = app.config["SESSION_ABSOLUTE_SECONDS"] - (now - session["_created"])
        ttl = max(1, min(app.config["SESSION_IDLE_SECONDS"], left))
        store().put(_key(session.sid), dict(session), ttl)
        secure = request.is_secure or over_https(app)
        # SameSite=None over https: a SAML POST binding arrives cross-site and must find its
        # session; forms carry CSRF tokens instead (docs/security.md).
        response.set_cookie(
            name, session.sid, httponly=True, path="/", secure=secure,
            samesite="None" if secure else "Lax",
        )
        response.vary.add("Cookie")


def over_https(app: Flask | None = None) -> bool:
    """True when the IdP is served over https (its BASE_URL): cookies are then Secure."""
    return (app or current_app).config["BASE_URL"].startswith("https://")


def host_cookie_name(name: str, app: Flask | None = None) -> str:
    """``name`` with the "__Host-" prefix over https: the browser then accepts the cookie only
    if Secure, with Path=/ and no Domain, so no other host (a sibling subdomain) can set it."""
    return f"__Host-{name}" if over_https(app) else name


def _expired(app, data: dict) -> bool:
    now = clock.timestamp()
    return (
        now - data.get("_created", now) >= app.config["SESSION_ABSOLUTE_SECONDS"]
        or now - data.get("_seen", now) >= app.config["SESSION_IDLE_SECONDS"]
    )


#: The page to end the login on (see ``idp.navigation.remember_page``).
AFTER_LOGIN = "after_login"
#: What a session keeps of itself when someone logs in (under a new session id).
KEPT_AT_LOGIN = ("csrf_token", AFTER_LOGIN)


def login(account: Account, amr: list[str], acr: str | None = None) -> None:
    """Start a signed-in session for ``account`` under a new session id."""
    keep = {k: v for k, v in session.items() if k in KEPT_AT_LOGIN}
    session.clear()
    session.update(keep)
    session.rotate = True
    session["_created"] = clock.timestamp()
    session["account_id"] = account.id
    session["epoch"] = account.session_epoch
    session["auth_time"] = clock.timestamp()
    session["amr"] = amr
    session["acr"] = acr
    _forget_account()


def on_logout(app: Flask, listener) -> None:
    """Run ``listener()`` whenever a session ends by logout, while its data is still there
    (protocol adapters tell their relying parties: OIDC back-channel logout, SAML)."""
    app.extensions.setdefault("kleidi.logout_listeners", []).append(listener)


def logout() -> None:
    """End the session here (its data is deleted from the store when the response is sent)."""
    for listener in current_app.extensions.get("kleidi.logout_listeners", []):
        listener()
    session.clear()
    _forget_account()


@dataclass(frozen=True)
class SignedIn:
    """The signed-in account as read once at the start of the request: what logins and answers
    to relying parties need. Code that changes the account takes :func:`current_account`."""

    id: int
    person_id: int
    username: str
    domain: str
    kind: str
    status: str
    must_change_password: bool
    session_epoch: int
    expires_at: datetime | None
    alumni_since: date | None

    @property
    def eppn(self) -> str:
        return f"{self.username}@{self.domain}"


# Prepared once: every request of a signed-in browser runs it (the epoch check), and loading
# an ORM object (then expiring it at the end of the request) costs twice the query.
_SIGNED_IN = sa.select(*(getattr(Account, f.name) for f in fields(SignedIn))).where(
    Account.id == sa.bindparam("account_id"))


def signed_in() -> SignedIn | None:
    """The signed-in, active account of this request, or None (its session then ends)."""
    if "kleidi_signed_in" in g:
        return g.kleidi_signed_in
    found = None
    account_id = session.get("account_id")
    if account_id is not None:
        rows = db.read(_SIGNED_IN, account_id=account_id)
        found = SignedIn(*rows[0]) if rows else None
        if found is None or found.status != "active" or (
            found.session_epoch != session.get("epoch")
        ):
            session.clear()
            found = None
    g.kleidi_signed_in = found
    return found


def current_account() -> Account | None:
    """The signed-in, active account of this request as an ORM object, or None."""
    if "kleidi_account" in g:
        return g.kleidi_account
    found = signed_in()
    account = db.session().get(Account, found.id) if found is not None else None
    g.kleidi_account = account
    return account


def _forget_account() -> None:
    g.pop("kleidi_account", None)
    g.pop("kleidi_signed_in", None)


def bump_epoch(account: Account) -> None:
    """End every session of ``account`` (the caller commits); keep the current one alive."""
    account.session_epoch += 1
    if has_request_context() and session.get("account_id") == account.id:
        session["epoch"] = account.session_epoch
        session.rotate = True


#: Endpoints that answer without the session even while the store is down.
WITHOUT_SESSION = {"ops.healthz", "ops.readyz", "metrics.metrics", "static"}


def _check_epoch() -> None:
    if request.endpoint in WITHOUT_SESSION:
        return
    if getattr(session, "outage", None) is not None:
        raise session.outage
    if "account_id" in session:
        signed_in()


def init_app(app: Flask) -> None:
    app.session_interface = StoreSessionInterface()
    app.before_request(_check_epoch)
