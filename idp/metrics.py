"""``/metrics`` in Prometheus' text format (prometheus_client).

Counted as things happen, in every worker: requests and their latency by endpoint and status,
sign-ins by result, messages (PINs among them) by channel, OIDC tokens issued, error codes
shown. Under several workers (``kleidi serve --workers N``) the counters live in files under
``PROMETHEUS_MULTIPROC_DIR`` (set it, to an empty folder of its own, before the server starts)
and a scrape adds up every worker's. Read when scraped, from the database and the store: the
outbox's depth and oldest message, the SMS budget left this hour, each federation metadata
source's age, validity and last error.

Nobody reads them without the ``METRICS_TOKEN`` (``Authorization: Bearer ...``) or an address
in ``METRICS_NETWORKS``; with neither set, ``/metrics`` does not exist (404).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("kleidi_http_requests_total", "HTTP requests answered",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("kleidi_http_request_duration_seconds", "Time to answer a request",
                    ["endpoint"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
SIGN_INS = Counter("kleidi_sign_ins_total", "Sign-ins by result", ["result"])
MESSAGES = Counter("kleidi_messages_queued_total",
                   "Messages queued for delivery (committed), by channel and template",
                   ["channel", "template"])
TOKENS = Counter("kleidi_oidc_tokens_issued_total", "OIDC token responses", ["grant_type"])
ERRORS = Counter("kleidi_error_codes_shown_total", "Coded errors answered", ["code"])
AUDIT = Counter("kleidi_audit_events_total", "Audit events committed", ["event"])

#: Audit events that are sign-ins, and the result each counts as.
SIGN_IN_EVENTS = {"login.success": "success", "login.failure": "wrong_password",
                  "login.second_factor_failure": "wrong_second_factor"}


def audit_committed(event: str) -> None:
    """Count a committed audit event (and the sign-in it may be)."""
    AUDIT.labels(event=event).inc()
    if event in SIGN_IN_EVENTS:
        SIGN_INS.labels(result=SIGN_IN_EVENTS[event]).inc()


def error_shown(code: str) -> None:
    ERRORS.labels(code=code).inc()


def _started() -> None:
    g.kleidi_started = time.perf_counter()


def _answered(response):
    started = g.pop("kleidi_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"
        REQUESTS.labels(endpoint=endpoint, method=request.method,
                        status=str(response.status_code)).inc()
        LATENCY.labels(endpoint=endpoint).observe(time.perf_counter() - started)
    return response


def allowed() -> bool:
    """The token or the address of the request lets it read the metrics."""
    config = current_app.config
    token = config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False)
               for network in config["METRICS_NETWORKS"])


def registry() -> CollectorRegistry:
    """Every worker's counters (multiprocess mode) or this process's, with the state read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        scraped = CollectorRegistry()
        multiprocess.MultiProcessCollector(scraped)
    else:
        scraped = CollectorRegistry()
        scraped.register(_ProcessCounters())
    from idp.metrics_state import StateCollector

    scraped.register(StateCollector(current_app._get_current_object()))
    return scraped


class _ProcessCounters:
    """This process's own counters (one worker: no multiprocess folder)."""

    def collect(self):
        for metric in REGISTRY.collect():
            if metric.name.startswith("kleidi_"):
                yield metric


@bp.get("/metrics")
def metrics():
    config = current_app.config
    if not config["METRICS_TOKEN"] and not config["METRICS_NETWORKS"]:
        abort(404)
    if not allowed():
        abort(404)  # nothing to tell whoever may not read them, not even that they exist
    return Response(generate_latest(registry()), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_answered)
    app.register_blueprint(bp)
