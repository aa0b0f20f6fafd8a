"""Device cookies (OWASP, "Slow down online guessing attacks with device cookies").

A browser in which an account signed in carries a signed token for that account: a keyed tag
of the username (the cookie does not show whose it is), a random nonce and the time it was
issued. On the next attempt with that username the token marks the browser as known, and the
per-account backoff that every unknown browser shares (:mod:`idp.credentials.throttle`) does
not apply to it: guessing from many addresses slows strangers down, never the owner.

A token through which LOGIN_DEVICE_MAX_FAILURES wrong passwords in a row were typed counts as
unknown from then on (a copied cookie buys a few guesses, not many); each sign-in replaces the
token with a new one. One cookie holds the tokens of the last LOGIN_DEVICE_ACCOUNTS accounts
(a shared computer in a lab).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from idp import clock, sessions
from idp.store import store

_SALT = "kleidi.device-cookie"


def cookie_name() -> str:
    return sessions.host_cookie_name(current_app.config["LOGIN_DEVICE_COOKIE_NAME"])


def known(username: str) -> str | None:
    """The nonce of this browser's live token for ``username``, or None (an unknown browser)."""
    tag = _tag(username)
    for token_tag, nonce, _issued in _tokens():
        if token_tag == tag:
            worn = (store().get(_failures_key(nonce)) or 0) >= current_app.config[
                "LOGIN_DEVICE_MAX_FAILURES"]
            return None if worn else nonce
    return None


def failed(nonce: str) -> None:
    """A wrong password was typed through the token ``nonce``."""
    store().incr(_failures_key(nonce), current_app.config["LOGIN_DEVICE_COOKIE_SECONDS"])


def remember(response, username: str) -> None:
    """After a sign-in with ``username``: give this browser a new token for it."""
    config = current_app.config
    tag = _tag(username)
    kept = []
    for token in _tokens():
        if token[0] == tag:
            store().delete(_failures_key(token[1]))
        else:
            kept.append(token)
    tokens = [[tag, secrets.token_urlsafe(16), clock.timestamp()], *kept]
    response.set_cookie(
        cookie_name(), _serializer().dumps(tokens[:config["LOGIN_DEVICE_ACCOUNTS"]]),
        max_age=config["LOGIN_DEVICE_COOKIE_SECONDS"], path="/", httponly=True,
        secure=sessions.over_https(), samesite="Lax")


def _tokens() -> list[list]:
    """This browser's tokens that are well formed, signed by us and not expired."""
    raw = request.cookies.get(cookie_name())
    if not raw or len(raw) > 4096:
        return []
    try:
        tokens = _serializer().loads(raw)
    except BadSignature:
        return []
    if not isinstance(tokens, list):
        return []
    oldest = clock.timestamp() - current_app.config["LOGIN_DEVICE_COOKIE_SECONDS"]
    return [token for token in tokens if _well_formed(token) and token[2] > oldest]


def _well_formed(token) -> bool:
    return (isinstance(token, list) and len(token) == 3 and isinstance(token[0], str)
            and isinstance(token[1], str) and isinstance(token[2], int))


def _tag(username: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    name = username.strip().lower().encode()
    return hmac.new(key, b"device-tag\n" + name, hashlib.sha256).hexdigest()[:32]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _failures_key(nonce: str) -> str:
    return f"throttle:device:{nonce}"
