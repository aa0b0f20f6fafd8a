"""One error page for every failure a person can meet, each with a stable code.

A module defines its codes at import time with :func:`define`; anything raises
:class:`KleidiError` with a code, and the page shows the code, what happened in plain words
and what to send to the helpdesk. Every code is listed in ``docs/errors.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from idp import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    title: object
    description: object
    #: What to do next, when several codes share it (one text to translate, not one per code).
    advice: object = None


CATALOGUE: dict[str, ErrorCode] = {}


def define(code: str, status: int, title, description, advice=None) -> ErrorCode:
    """Register an error code. Codes are stable: never reuse or renumber one."""
    entry = ErrorCode(code, status, title, description, advice)
    if CATALOGUE.get(code, entry) != entry:
        raise ValueError(f"error code {code} is defined twice")
    CATALOGUE[code] = entry
    return entry


class KleidiError(Exception):
    """A failure shown on the error page. ``context`` goes to the log, never to the page."""

    def __init__(self, code: str, **context):
        super().__init__(code)
        if code not in CATALOGUE:
            raise ValueError(f"undefined error code {code}")
        self.entry = CATALOGUE[code]
        self.context = context


GEN_NOT_FOUND = define("GEN-001", 404, _l("Page not found"),
                       _l("The address you followed does not exist here."))
GEN_METHOD = define("GEN-002", 405, _l("Request not allowed"),
                    _l("This page cannot be used that way. Start again from the login page."))
GEN_CSRF = define("GEN-003", 400, _l("The form has expired"),
                  _l("The form was open for too long or was not sent from this site. "
                     "Go back, reload the page and try again."))
GEN_TOO_LARGE = define("GEN-004", 413, _l("Request too large"),
                       _l("What was sent is larger than this service accepts."))
GEN_INTERNAL = define("GEN-005", 500, _l("Something went wrong on our side"),
                      _l("The service could not complete your request. Nothing was changed. "
                         "Try again in a few minutes."))
GEN_BAD_REQUEST = define("GEN-006", 400, _l("Invalid request"),
                         _l("The request was incomplete or malformed."))
GEN_UNAVAILABLE = define("GEN-007", 503, _l("Service temporarily unavailable"),
                         _l("A service we depend on is not answering. Try again shortly."))

_HTTP_CODES = {404: "GEN-001", 405: "GEN-002", 413: "GEN-004", 400: "GEN-006"}


def support_address(code: str) -> str:
    """Where a person who met ``code`` writes: activation problems go to the office that keeps
    the student registry (ACTIVATION_SUPPORT_EMAIL), everything else to the helpdesk."""
    config = current_app.config
    return config["ACTIVATION_SUPPORT_EMAIL"] if code.startswith("ACT-") else config["SUPPORT_EMAIL"]


def render(entry: ErrorCode, status: int | None = None):
    """The error page for ``entry`` (HTML, with the support instructions)."""
    metrics.error_shown(entry.code)
    body = render_template("errors/error.html", error=entry, request_id=g.get("request_id"))
    return body, status or entry.status


def _handle_kleidi(error: KleidiError):
    log.info("error page", extra={"code": error.entry.code, "path": request.path,
                                  "context": error.context})
    return render(error.entry)


def _handle_http(error: HTTPException):
    code = _HTTP_CODES.get(error.code or 500)
    if code is None:
        return error
    return render(CATALOGUE[code], error.code)


def _handle_csrf(_error: CSRFError):
    log.info("csrf rejected", extra={"code": "GEN-003", "path": request.path})
    return render(GEN_CSRF)


def _handle_unexpected(error: Exception):
    log.exception("unhandled error", extra={"code": "GEN-005", "path": request.path})
    return render(GEN_INTERNAL)


def init_app(app: Flask) -> None:
    app.add_template_global(support_address)
    app.register_error_handler(KleidiError, _handle_kleidi)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    if not app.testing:
        app.register_error_handler(Exception, _handle_unexpected)
