"""Delivery that loses nothing: the outbox, its worker, and the SMTP and HTTP SMS gateways."""

from __future__ import annotations

import json
import logging
import socket
import threading
from email import message_from_string
from email.policy import default
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from idp import db, messaging
from idp.config import ConfigurationError
from idp.messaging import outbox
from idp.messaging.gateways import HTTPSMSGateway, Outgoing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.received.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


def queue_pin(app, channel="email", recipient="eleni.n@example.org", language="el"):
    with app.test_request_context():
        messaging.enqueue(channel, recipient, "pin", language, pin="314159", minutes=15,
                          service="Kleidi", organization="Kleidi University")
        db.session().commit()


def deliver(app) -> int:
    with app.app_context():
        return outbox.deliver_due(messaging.gateways())


def rows(app) -> list:
    with app.app_context():
        return [(m.status, m.attempts, m.last_error, m.body_encrypted is None)
                for m in db.session().scalars(sa.select(outbox.OutboxMessage))]


@pytest.fixture
def smtp_port(app):
    port = free_port()
    app.config.update(EMAIL_GATEWAY="smtp", SMTP_URL=f"smtp://127.0.0.1:{port}")
    return port


def test_smtp_down_then_back_delivers_the_message(app, clock, smtp_port):
    queue_pin(app)
    assert deliver(app) == 0
    assert rows(app) == [("pending", 1, "SMTP 127.0.0.1: ConnectionRefusedError", False)]
    mailbox = Mailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        assert deliver(app) == 0  # not yet due: backing off
        clock.advance(app.config["OUTBOX_BACKOFF_SECONDS"] + 1)
        assert deliver(app) == 1
    finally:
        server.stop()
    [(recipients, content)] = mailbox.received
    email = message_from_string(content, policy=default)
    assert recipients == ["eleni.n@example.org"] and email["To"] == "eleni.n@example.org"
    assert email["Subject"] == "Το PIN σας για: Kleidi"
    assert "Το PIN σας είναι: 314159" in email.get_content()
    assert rows(app) == [("sent", 1, "SMTP 127.0.0.1: ConnectionRefusedError", True)]


@pytest.mark.settings(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_SECONDS=10)
def test_backoff_doubles_then_the_message_is_dead(app, clock, smtp_port, caplog):
    queue_pin(app)
    waits = []
    for _ in range(3):
        deliver(app)
        with app.app_context():
            message = db.session().scalars(sa.select(outbox.OutboxMessage)).one()
            waits.append(message.next_attempt_at)
        clock.advance(100)
    first, second, _ = waits
    # 10 s after the first failure, 20 s after the second (which came 100 s later)
    assert round((second - first).total_seconds()) == 100 + 20 - 10
    assert rows(app)[0][:2] == ("dead", 3) and rows(app)[0][3] is True
    assert "message undeliverable" in caplog.text


def test_message_rolls_back_with_its_transaction(app):
    with app.test_request_context():
        messaging.enqueue("email", "a@example.org", "pin", "en", pin="000000", minutes=15,
                          service="x", organization="y")
        db.session().rollback()
    assert rows(app) == []


def test_body_is_encrypted_until_sent(app):
    queue_pin(app)
    with app.app_context():
        stored = db.session().scalars(sa.select(outbox.OutboxMessage.body_encrypted)).one()
    assert "314159" not in stored


class SMSProvider(BaseHTTPRequestHandler):
    requests: list = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers["Content-Length"])
        SMSProvider.requests.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(SMSProvider.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_provider(app):
    server = HTTPServer(("127.0.0.1", 0), SMSProvider)
    SMSProvider.requests, SMSProvider.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(SMS_HTTP_URL=f"http://127.0.0.1:{server.server_port}/send",
                      SMS_HTTP_AUTH="Bearer provider-token", SMS_SENDER="UNIV")
    yield SMSProvider
    server.shutdown()
    server.server_close()


def test_http_sms_gateway_posts_the_configured_body(app, clock, sms_provider):
    sms_provider.status = 503
    queue_pin(app, "sms", "+306912345678", language="en")
    assert deliver(app) == 0 and rows(app)[0][:2] == ("pending", 1)
    sms_provider.status = 200
    clock.advance(app.config["OUTBOX_BACKOFF_SECONDS"] + 1)
    assert deliver(app) == 1
    headers, body = sms_provider.requests[-1]
    payload = json.loads(body)
    assert headers["Authorization"] == "Bearer provider-token"
    assert payload["to"] == "+306912345678" and payload["from"] == "UNIV"
    assert "314159" in payload["text"] and "15 minutes" in payload["text"]


def test_http_sms_gateway_form_encoding():
    gateway = HTTPSMSGateway("https://sms.example/api", "to=$to&msg=$text",
                             content_type="application/x-www-form-urlencoded")
    body = gateway.payload(Outgoing("sms", "+306912345678", "", "PIN: 1 & 2"))
    assert body == b"to=%2B306912345678&msg=PIN%3A+1+%26+2"


def test_production_refuses_the_development_gateway(app):
    config = {**app.config, "ENV": "production"}
    with pytest.raises(ConfigurationError):
        messaging.gateways(config)
    config.update(SMTP_URL="smtps://user:pw@mail.example:465", SMS_HTTP_URL="https://sms.example")
    assert set(messaging.gateways(config)) == {"email", "sms", "webhook"}


def test_kleidi_outbox_prints_what_the_dev_gateway_kept(app):
    queue_pin(app, "sms", "+306912345678")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "1 message(s) sent" in result.output
    result = runner.invoke(args=["outbox"])
    assert result.exit_code == 0
    assert "sms to +306912345678" in result.output and "314159" in result.output


def test_worker_loop_stops_on_signal(app, caplog):
    caplog.set_level(logging.INFO)
    queue_pin(app)
    stop = threading.Event()
    worker = threading.Thread(target=messaging.run_worker, args=(app,),
                              kwargs={"interval": 0.05, "stop": stop})
    worker.start()
    for _ in range(100):
        if rows(app)[0][0] == "sent":
            break
        stop.wait(0.05)
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive() and rows(app)[0][0] == "sent"
