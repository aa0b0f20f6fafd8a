"""Where the AcademicID comes from: a central issuer over real HTTP on loopback (as GUnet's
service does for Greek institutions), the registry feed when it carries one, and activation
waiting, with nothing half-made, while the issuer is down."""

from __future__ import annotations

import json
import socket
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from test_activation_flow import PASSWORD, activate, amka_for, finish, stored, submit, username_on

from idp import db
from idp.identity.models import Account, Person

CENTRAL_ID = "GUnetIssued0000000000000000042"


class Issuer(BaseHTTPRequestHandler):
    asked: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        self.asked.append((self.headers["Authorization"],
                           json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
        body = json.dumps({"academic_id": CENTRAL_ID}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture
def issuer_port(app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(ACADEMIC_ID_ISSUER="central", ACADEMIC_ID_ISSUER_AUTH="Bearer t0ken",
                      ACADEMIC_ID_ISSUER_URL=f"http://127.0.0.1:{port}/academic-id",
                      ACADEMIC_ID_ISSUER_TIMEOUT_SECONDS=2)
    Issuer.asked = []
    return port


def _serve(port):
    server = ThreadingHTTPServer(("127.0.0.1", port), Issuer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _count(app, model):
    with app.app_context():
        return db.session().scalar(sa.select(sa.func.count()).select_from(model))


def test_the_central_issuer_gives_the_academic_id(app, client, outbox, make_registry_record,
                                                  issuer_port):
    amka = amka_for(date(2004, 3, 9))
    make_registry_record(ssn=amka)
    server = _serve(issuer_port)
    try:
        flow, _ = activate(client, outbox, "00012345")
        _, person, _ = stored(app, username_on(finish(client, flow)))
    finally:
        server.shutdown()
        server.server_close()
    assert person.academic_id == CENTRAL_ID
    (auth, asked), = Issuer.asked
    assert auth == "Bearer t0ken" and asked["amka"] == amka
    assert asked["institution"] == "example.edu" and asked["family_name"] == "Νικολάου"


def test_activation_waits_while_the_issuer_is_down_and_nothing_is_half_made(
        app, client, outbox, make_registry_record, issuer_port, login):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    flow, _ = activate(client, outbox, "00012345")
    submit(client, f"{flow}/review", {"consent_mobile": "y", "consent_email": "y"})
    down = submit(client, f"{flow}/password", {"password": PASSWORD, "confirmation": PASSWORD})
    body = down.get_data(as_text=True)
    assert down.status_code == 503 and "LIFE-007" in body
    assert _count(app, Person) == 0 and _count(app, Account) == 0

    server = _serve(issuer_port)
    try:
        done = submit(client, f"{flow}/password",
                      {"password": PASSWORD, "confirmation": PASSWORD})
    finally:
        server.shutdown()
        server.server_close()
    assert done.status_code == 303, done.get_data(as_text=True)
    username = username_on(client.get(done.headers["Location"]))
    assert stored(app, username)[1].academic_id == CENTRAL_ID
    assert login(app.test_client(), username, PASSWORD).status_code == 303


def test_an_academic_id_in_the_registry_feed_wins(app, client, outbox, make_registry_record,
                                                  issuer_port):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)), academic_id="FromTheRegistry0001")
    flow, _ = activate(client, outbox, "00012345")  # the issuer is down: never asked
    _, person, _ = stored(app, username_on(finish(client, flow)))
    assert person.academic_id == "FromTheRegistry0001" and Issuer.asked == []


def test_the_feed_rejects_a_malformed_academic_id(app):
    from idp.identity import registry

    with app.app_context():
        report = registry.import_rows("students", [(1, {
            "registrationID": "1", "departmentID": "1512", "firstNameEl": "Α", "lastNameEl": "Β",
            "enrollmentType": "undergraduate", "academicID": "not/valid"})])
    assert report.errors == [(1, "academicID must be 1-64 letters and digits")]
