"""When the database or the store stops answering: a coded 503, never a half answer.

A connection failure to PostgreSQL (or SQLite's file) or to Redis, wherever it happens in a
request (opening the session, a view, saving the session), ends the request with the
``GEN-007`` page in the person's language and a ``Retry-After`` header. Protocol endpoints
answer in their protocol instead: an area registers, with :func:`respond_with`, what its
endpoints say during an outage (OIDC ``temporarily_unavailable``, a SAML ``Responder`` status).
The failed transaction is rolled back when the request ends, so nothing is half-written, and
the next request tries the connection again: recovery needs no restart.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import psycopg
import redis
import sqlalchemy as sa
from flask import Flask, current_app, g, request

from idp.errors import GEN_UNAVAILABLE, render

log = logging.getLogger(__name__)

#: Exceptions that may mean a dependency is down (:func:`dependency_of` decides).
CANDIDATES = (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError,
              sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError,
              sa.exc.DisconnectionError)
#: SQLite's words for a database file it cannot use now (not for a missing table).
_SQLITE_OUTAGE = ("database is locked", "unable to open", "disk i/o error", "readonly database")


def _driver_outage(error: BaseException) -> bool:
    """psycopg's own connection failures (raised where psycopg is called directly)."""
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def dependency_of(error: BaseException) -> str | None:
    """"store" or "database" when ``error`` is a connection failure to it, else None."""
    if isinstance(error, redis.ConnectionError | redis.TimeoutError | redis.ReadOnlyError):
        return "store"
    if isinstance(error, sa.exc.TimeoutError | sa.exc.DisconnectionError) or _driver_outage(error):
        return "database"
    if isinstance(error, sa.exc.DBAPIError):
        if error.connection_invalidated or _driver_outage(error.orig):
            return "database"
        text = str(error.orig).lower()
        if any(words in text for words in _SQLITE_OUTAGE):
            return "database"
    return None


def respond_with(app: Flask, endpoints: tuple[str, ...],
                 responder: Callable[[str], object | None]) -> None:
    """During an outage, let ``responder(dependency)`` answer requests to ``endpoints`` (in
    their protocol); it returns a response, or None for the GEN-007 page. It must not need
    the dependency that is down (it may try, and is then ignored if that fails too)."""
    responders = app.extensions.setdefault("kleidi.outage_responders", {})
    for endpoint in endpoints:
        responders[endpoint] = responder


def response(error: BaseException, dependency: str):
    """The answer to a request that met an outage of ``dependency``."""
    log.warning("dependency unavailable", extra={
        "code": GEN_UNAVAILABLE.code, "dependency": dependency, "path": request.path,
        "error": type(error).__name__})
    g.setdefault("kleidi_signed_in", None)  # the page must not ask the database who is in
    g.setdefault("request_id", secrets.token_hex(8))  # when it failed before one was given
    answer = None
    responder = current_app.extensions.get("kleidi.outage_responders", {}).get(request.endpoint)
    if responder is not None:
        try:
            answer = responder(dependency)
        except (*CANDIDATES, psycopg.Error) as again:
            if dependency_of(again) is None:
                raise
    if answer is None:
        answer = render(GEN_UNAVAILABLE)
    answer = current_app.make_response(answer)
    if answer.status_code == 503:
        answer.headers["Retry-After"] = str(current_app.config["OUTAGE_RETRY_AFTER_SECONDS"])
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _handle(error: BaseException):
    dependency = dependency_of(error)
    if dependency is None:
        raise error
    return response(error, dependency)


class Kleidi(Flask):
    """Flask with outages answered even where Flask's error handlers are not asked: a failure
    while the session is opened or saved (around the view) becomes the GEN-007 page too,
    instead of Flask's bare 500 and its "Request finalizing failed" log line."""

    def handle_exception(self, e: Exception):
        dependency = dependency_of(e)
        if dependency is None:
            return super().handle_exception(e)
        return self.finalize_request(response(e, dependency), from_error_handler=True)


def init_app(app: Flask) -> None:
    """Answer outages met inside views with :func:`response` (the :class:`Kleidi` app class
    answers those met around them)."""
    for kind in (*CANDIDATES, psycopg.OperationalError, psycopg.InterfaceError):
        app.register_error_handler(kind, _handle)
