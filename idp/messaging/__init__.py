"""Email and SMS to people: texts from templates in their language, delivered via an outbox.

Use :func:`enqueue` inside the transaction that creates the state the message is about; the
worker (``kleidi worker``, or a thread inside the development server) delivers it through the
configured gateway of its channel:

* email: ``EMAIL_GATEWAY`` "smtp" (``SMTP_URL``) or "dev";
* sms: ``SMS_GATEWAY`` "http" (``SMS_HTTP_*``) or "dev";
* webhook: signed POSTs to the subscribers of ``WEBHOOKS`` (see :mod:`idp.messaging.webhooks`).

The "dev" gateway keeps messages for ``kleidi outbox`` to print. Message texts are the
templates ``templates/messages/<name>.<channel>.txt`` (first line of an email: its subject),
rendered with the person's language. SMS texts are sent in the GSM alphabet (Greek in
capitals), one segment each (:mod:`idp.messaging.gsm`), and name the institution.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app, render_template
from flask_babel import force_locale

from idp import db, metrics
from idp.config import ConfigurationError
from idp.messaging import gsm, outbox
from idp.messaging.gateways import DevGateway, HTTPSMSGateway, SMTPGateway

log = logging.getLogger(__name__)
CHANNELS = ("email", "sms")


def render(name: str, channel: str, language: str, **context) -> tuple[str, str]:
    """(subject, body) of template ``name`` for ``channel`` in ``language``."""
    with force_locale(language):
        text = render_template(f"messages/{name}.{channel}.txt", **context).strip()
    if channel == "email":
        subject, _, body = text.partition("\n")
        return subject.strip(), body.strip() + "\n"
    return "", gsm.to_gsm(" ".join(text.split()))  # one line, one segment (see gsm)


def enqueue(channel: str, recipient: str, name: str, language: str, **context) -> bool:
    """Write message ``name`` to ``recipient`` into the current transaction.

    False when it was not queued because the hourly SMS budget is spent (logged as an alert).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel}")
    if channel == "sms" and not outbox.within_sms_budget():
        return False
    subject, body = render(name, channel, language, **context)
    outbox.add(channel, recipient, subject, body, name)
    db.after_commit(metrics.MESSAGES.labels(channel=channel, template=name).inc)
    return True


def gateways(config: dict | None = None) -> dict:
    """The gateway of each channel, from the configuration."""
    config = config or current_app.config
    from idp.messaging.webhooks import WebhookGateway

    return {"email": _email_gateway(config), "sms": _sms_gateway(config),
            "webhook": WebhookGateway(config["WEBHOOKS"])}


def _email_gateway(config: dict):
    if (config["EMAIL_GATEWAY"] or ("smtp" if config["SMTP_URL"] else "dev")) == "smtp":
        return SMTPGateway(config["SMTP_URL"], config["MAIL_FROM"])
    return _dev_gateway(config, "EMAIL_GATEWAY")


def _sms_gateway(config: dict):
    if (config["SMS_GATEWAY"] or ("http" if config["SMS_HTTP_URL"] else "dev")) == "http":
        return HTTPSMSGateway(config["SMS_HTTP_URL"], config["SMS_HTTP_BODY"],
                              auth=config["SMS_HTTP_AUTH"], sender=config["SMS_SENDER"],
                              content_type=config["SMS_HTTP_CONTENT_TYPE"])
    return _dev_gateway(config, "SMS_GATEWAY")


def _dev_gateway(config: dict, setting: str):
    if config[setting] not in ("", "dev"):
        raise ConfigurationError(f"KLEIDI_{setting} must be smtp/http or dev")
    if config["ENV"] == "production":
        raise ConfigurationError(f"production needs a real {setting.split('_')[0].lower()} "
                                 "gateway: set KLEIDI_SMTP_URL / KLEIDI_SMS_HTTP_URL")
    return DevGateway()


HOUSEKEEPING_SECONDS = 300


def add_housekeeping(app: Flask, task) -> None:
    """Have the worker call ``task()`` (in an app context) every few minutes, e.g. to delete
    expired records. A task must be idempotent and quick."""
    app.extensions.setdefault("kleidi.housekeeping", []).append(task)


def add_periodic(app: Flask, task, every_seconds: float) -> None:
    """Have ``kleidi worker`` call ``task()`` (in an app context) when it starts and then every
    ``every_seconds`` (e.g. the daily lifecycle run). A task must be idempotent: several
    workers may run it."""
    app.extensions.setdefault("kleidi.periodic", []).append((task, every_seconds))


def run_worker(app: Flask, *, interval: float, stop: threading.Event) -> None:
    """Deliver due messages every ``interval`` seconds until ``stop`` is set."""
    last_housekeeping = 0.0
    last_run: dict = {}
    while not stop.is_set():
        with app.app_context():
            _guarded(outbox.deliver_due, gateways())
            if time.monotonic() - last_housekeeping >= HOUSEKEEPING_SECONDS:
                last_housekeeping = time.monotonic()
                for task in app.extensions.get("kleidi.housekeeping", []):
                    _guarded(task)
            _run_periodic(app, last_run)
        stop.wait(interval)


def _run_periodic(app: Flask, last_run: dict) -> None:
    for task, every in app.extensions.get("kleidi.periodic", []):
        if task not in last_run or time.monotonic() - last_run[task] >= every:
            last_run[task] = time.monotonic()
            _guarded(task)


def _guarded(task, *args) -> None:
    try:
        task(*args)
    except Exception:  # noqa: BLE001 - the worker must outlive one bad round
        log.exception("worker task failed", extra={"task": getattr(task, "__name__", "?")})


def _start_inprocess_worker(app: Flask) -> None:
    """Development: a daemon thread delivers messages, started by the first request."""
    started = threading.Lock()

    @app.before_request
    def _start_once():
        if started.acquire(blocking=False):
            thread = threading.Thread(target=run_worker, daemon=True, name="outbox-worker",
                                      kwargs={"app": app, "interval": 2.0,
                                              "stop": threading.Event()})
            thread.start()


def init_app(app: Flask) -> None:
    from idp.messaging import cli

    cli.init_app(app)
    gateways(app.config)  # a misconfigured gateway stops start-up, not the first message
    if app.config["OUTBOX_INPROCESS_WORKER"] and app.config["ENV"] == "development":
        _start_inprocess_worker(app)

