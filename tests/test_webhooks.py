"""Service changes and lifecycle events reach subscribed systems as signed webhooks, through
the outbox: a receiver on loopback that was down gets each change exactly once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from conftest import csrf_token
from lifecycle_support import enrolled

from idp import db, messaging
from idp.identity import accounts, services
from idp.messaging import outbox

SECRET = "a shared secret of the mail server"


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args):
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def port(app):
    port = _free_port()
    app.config["WEBHOOKS"] = {"mail": {"url": f"http://127.0.0.1:{port}/hook", "secret": SECRET,
                                       "events": ["service.*", "account.*"]}}
    return port


def _deliver(app) -> int:
    with app.app_context():
        return outbox.deliver_due(messaging.gateways())


def test_a_receiver_that_was_down_gets_each_change_exactly_once(app, client, clock, login,
                                                                port):
    username, password = enrolled(app)
    login(client, username, password)
    for service in ("vpn", "eduroam"):
        page = client.get("/account")
        client.post("/account/services", data={"csrf_token": csrf_token(page),
                                                "service": service, "action": "disable"})
    assert _deliver(app) == 0  # nobody listens yet: both wait for a retry

    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert _deliver(app) == 0  # not due before the backoff
        clock.advance(app.config["OUTBOX_BACKOFF_SECONDS"] + 1)
        assert _deliver(app) == 2
        clock.advance(3600)
        assert _deliver(app) == 0
    finally:
        server.shutdown()
        server.server_close()

    events = [json.loads(body) for _headers, body in Receiver.received]
    assert sorted((e["type"], e["data"]["service"]) for e in events) == [
        ("service.disabled", "eduroam"), ("service.disabled", "vpn")]
    assert {e["account"]["username"] for e in events} == {username}
    assert len({e["id"] for e in events}) == 2
    for headers, body in Receiver.received:
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
        expected = base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest())
        assert headers["webhook-signature"] == "v1," + expected.decode()
        assert headers["webhook-id"] == json.loads(body)["id"]


def test_only_subscribed_events_are_queued(app, port):
    app.config["WEBHOOKS"]["vpn"] = {"url": "http://127.0.0.1:9/", "secret": "s",
                                     "events": ["account.disabled"]}
    enrolled(app, username="someone")
    with app.test_request_context():
        account = accounts.find_by_username("someone")
        assert services.set_enabled(account, "vpn", False)
        assert accounts.disable(account, "test", "test")
        queued = db.session().execute(
            sa.select(outbox.OutboxMessage.recipient, outbox.OutboxMessage.subject)
            .where(outbox.OutboxMessage.channel == "webhook")).all()
    assert sorted(queued) == [("mail", "account.disabled"), ("mail", "service.disabled"),
                              ("vpn", "account.disabled")]
