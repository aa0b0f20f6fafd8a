"""``kleidi applications``: the office's work from the command line, with --json, through the
same functions as the pages (the audit trail names the actor and the reason)."""

import json

import sqlalchemy as sa
from application_support import CONTRACTOR, EMAIL, FACULTY, apply, serial_and_secret

from idp import db
from idp.audit import AuditEvent


def _kleidi(app, *args):
    return app.test_cli_runner().invoke(args=["applications", *args])


def test_the_whole_office_work_from_the_command_line(app, client, outbox):
    apply(client, CONTRACTOR)
    serial, _ = serial_and_secret(outbox)
    listed = json.loads(_kleidi(app, "list", "--status", "submitted", "--json").output)
    assert listed == [{"serial": serial, "status": "submitted", "role": "contractor",
                       "name": "Νίκος Αλεξίου", "submitted": listed[0]["submitted"]}]
    approved = json.loads(_kleidi(app, "approve", serial, "--json").output)
    assert approved["eppn"] == "nalexiou@example.edu" and approved["status"] == "account_created"
    missing = _kleidi(app, "verify", serial, "--document", "id_card", "--number", "AK123456",
                      "--evidence", "solemn_declaration")
    assert missing.exit_code == 1 and "APPLY-006" in missing.output
    verified = _kleidi(app, "verify", serial, "--document", "id_card", "--number", "AK 123456",
                       "--evidence", "solemn_declaration", "--evidence", "role_certificate",
                       "--json")
    assert json.loads(verified.output)["status"] == "verified"
    handed = json.loads(_kleidi(app, "hand-over", serial, "--json").output)
    assert handed["status"] == "handed_over" and handed["code"] in outbox.to(EMAIL)[-1]["body"]
    shown = json.loads(_kleidi(app, "show", serial, "--json").output)
    assert [e["status"] for e in shown["history"]] == [
        "submitted", "account_created", "verified", "handed_over"]
    assert shown["verifications"][0]["evidence"] == ["role_certificate", "solemn_declaration"]
    assert shown["verifications"][0]["actor"] == "cli"
    text = _kleidi(app, "show", serial).output
    assert "nalexiou@example.edu" in text and "no HR record" in text


def test_refusals_print_their_code_and_change_nothing(app, client, outbox):
    apply(client, FACULTY)
    serial, _ = serial_and_secret(outbox, FACULTY["email"])
    early = _kleidi(app, "hand-over", serial)
    assert early.exit_code == 1 and "APPLY-004" in early.output
    no_reason = _kleidi(app, "reject", serial, "--reason", " ", "--json")
    assert json.loads(no_reason.output)["error"] == "APPLY-012"
    rejected = _kleidi(app, "reject", serial, "--reason", "Not a member of the unit")
    assert rejected.exit_code == 0 and f"{serial} rejected" in rejected.output
    twice = _kleidi(app, "approve", serial)
    assert twice.exit_code == 1 and "APPLY-003" in twice.output
    unknown = _kleidi(app, "show", "2026-999999")
    assert unknown.exit_code == 1 and "APPLY-011" in unknown.output
    with app.app_context():
        events = db.session().scalars(sa.select(AuditEvent).where(
            AuditEvent.event.like("application.%")).order_by(AuditEvent.id)).all()
        assert [e.event for e in events] == ["application.submitted", "application.rejected"]
        assert events[1].actor == "cli"
        assert events[1].detail["reason"] == "Not a member of the unit"
        assert events[1].detail["serial"] == serial
