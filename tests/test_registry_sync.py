"""A registry re-import reaches people: names, affiliations by status, contract ends,
transfers, suspensions; a --full feed is the whole truth behind a safety valve."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from lifecycle_support import enrolled, hr_row, import_feed, student_row
from oidc_support import code_flow, register, token_request

from idp import db
from idp.audit import AuditEvent
from idp.identity import sync
from idp.identity.models import Account, Affiliation, Person


def _affiliations(app, username):
    with app.app_context():
        account = db.session().scalar(sa.select(Account).where(Account.username == username))
        return [(a.role, a.department_id, a.status, a.valid_through) for a in db.session()
                .scalars(sa.select(Affiliation).where(Affiliation.person_id == account.person_id)
                         .order_by(Affiliation.id))]


def _people(app, n_staff):
    return [enrolled(app, source="hr", role="staff", registration=f"H{i:03d}")[0]
            for i in range(n_staff)]


def _write(tmp_path, rows):
    path = tmp_path / "hr.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return str(path)


def test_a_corrected_name_reaches_the_person_and_is_audited(app):
    username, _ = enrolled(app)
    report = import_feed(app, "students", [student_row(lastNameEl="Παπαδοπούλου-Ρήγα")])
    assert report.changes.counts == {"name_corrected": 1}
    with app.app_context():
        account = db.session().scalar(sa.select(Account).where(Account.username == username))
        assert account.person.family_name_el == "Παπαδοπούλου-Ρήγα"
        events = db.session().scalars(sa.select(AuditEvent.event)).all()
        assert "registry.name_corrected" in events


def test_an_hr_contract_end_becomes_the_affiliation_end(app):
    username, _ = enrolled(app, source="hr", role="academic_fellow", registration="H1")
    import_feed(app, "hr", [hr_row("H1", role="academic_fellow", contractEnd="2031-08-31")])
    assert _affiliations(app, username)[0][3].isoformat() == "2031-08-31"
    result = app.test_cli_runner().invoke(args=["account", "show", username, "--json"])
    assert json.loads(result.output)["valid_until"] == "2031-08-31"


def test_a_full_import_that_would_end_40_percent_is_refused_then_forced(app, tmp_path):
    usernames = _people(app, 10)
    feed = _write(tmp_path, [hr_row(f"H{i:03d}") for i in range(6)])  # 4 of 10 missing
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["registry", "import", feed, "--registry", "hr", "--full"])
    assert refused.exit_code != 0 and "would end 4 of 10" in refused.output
    assert all(row[2] == "active" for u in usernames for row in _affiliations(app, u))

    dry = runner.invoke(args=["registry", "import", feed, "--registry", "hr", "--full",
                              "--force", "--dry-run"])
    assert dry.exit_code == 0 and dry.output.count("would: affiliation_ended") == 4
    assert all(row[2] == "active" for u in usernames for row in _affiliations(app, u))

    forced = runner.invoke(args=["registry", "import", feed, "--registry", "hr", "--full",
                                 "--force"])
    assert forced.exit_code == 0 and "affiliation_ended 4" in forced.output
    ended = [u for u in usernames if _affiliations(app, u)[0][2] == "ended"]
    assert ended == usernames[6:]


def test_a_small_full_import_needs_no_force(app, tmp_path):
    usernames = _people(app, 21)
    feed = _write(tmp_path, [hr_row(f"H{i:03d}") for i in range(20)])  # 1 of 21: under 5 %
    result = app.test_cli_runner().invoke(args=["registry", "import", feed, "--registry", "hr",
                                                "--full"])
    assert result.exit_code == 0, result.output
    assert _affiliations(app, usernames[20])[0][2] == "ended"
    with app.app_context(), pytest.raises(sync.SafetyValve):
        from idp.identity import registry

        registry.import_rows("hr", [(1, hr_row("H000"))], full=True)


def test_a_transfer_keeps_the_academic_id_and_ends_the_old_affiliation(app):
    username, _ = enrolled(app, amka="17050112345")
    with app.app_context():
        before = db.session().scalar(sa.select(Person.academic_id))
    report = import_feed(app, "students", [
        student_row(status="transferred"),
        student_row(registration="00099999", department="1530", SSN="17050112345")])
    assert report.changes.counts["affiliation_started"] == 1
    assert report.changes.counts["affiliation_ended"] == 1
    roles = _affiliations(app, username)
    assert [(r[1], r[2]) for r in roles] == [("1512", "ended"), ("1530", "active")]
    with app.app_context():
        assert db.session().scalars(sa.select(Person.academic_id)).all() == [before]


def test_a_suspended_student_is_disabled_with_sessions_and_tokens_ended(app, client, login):
    username, password = enrolled(app)
    rp, secret = register(app)
    tokens, _, _ = code_flow(client, login, app, username=username, password=password,
                             client_id=rp, secret=secret)
    assert client.get("/account").status_code == 200
    report = import_feed(app, "students", [student_row(status="suspended")])
    assert report.changes.counts["account_disabled"] == 1
    assert client.get("/account").status_code == 302
    refresh = token_request(client, {"grant_type": "refresh_token",
                                      "refresh_token": tokens["refresh_token"]}, rp, secret)
    assert refresh.status_code == 400 and refresh.get_json()["error"] == "invalid_grant"
    assert client.get("/oidc/userinfo", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    refused = login(app.test_client(), username, password)
    assert refused.status_code == 403 and "LOGIN-003" in refused.get_data(as_text=True)
    with app.app_context():
        event = db.session().scalars(sa.select(AuditEvent).where(
            AuditEvent.event == "account.disabled")).one()
        assert event.detail["reason"] == "registry: suspended"


def test_a_dry_run_prints_the_changes_and_writes_nothing(app, tmp_path):
    username, _ = enrolled(app)
    path = tmp_path / "students.json"
    path.write_text(json.dumps([student_row(status="graduated")]), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["registry", "import", str(path), "--dry-run"])
    assert "would: affiliation_ended students 00012345" in result.output
    assert "would: alumni_started" in result.output and result.output.startswith("would:")
    assert [r[2] for r in _affiliations(app, username)] == ["active"]
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.event.like("registry.%"))) == 0


def test_the_registry_that_suspended_an_account_enables_it_again(app, login):
    username, password = enrolled(app)
    import_feed(app, "students", [student_row(status="suspended")])
    assert login(app.test_client(), username, password).status_code == 403
    report = import_feed(app, "students", [student_row(status="active")])
    assert report.changes.counts["account_enabled"] == 1
    assert login(app.test_client(), username, password).status_code == 303


def test_an_account_the_helpdesk_disabled_stays_disabled(app):
    username, _ = enrolled(app)
    with app.app_context():
        from idp.identity import accounts

        accounts.disable(accounts.find_by_username(username), "lost laptop", "helpdesk")
        db.session().commit()
    report = import_feed(app, "students", [student_row(status="active")])
    assert "account_enabled" not in report.changes.counts


def test_a_new_role_reinstates_a_deactivated_account(app, login):
    username, password = enrolled(app, source="hr", role="staff", registration="H1")
    import_feed(app, "hr", [hr_row("H1", status="inactive")])
    with app.app_context():
        from idp.identity import accounts

        accounts.find_by_username(username).status = "expired"  # as the lifecycle run does
        db.session().commit()
    assert login(app.test_client(), username, password).status_code == 403
    report = import_feed(app, "hr", [hr_row("H1")])  # the same role again
    assert report.changes.counts["account_reinstated"] == 1
    assert login(app.test_client(), username, password).status_code == 303


def test_importing_the_same_feed_again_changes_nothing(app):
    enrolled(app)
    first = import_feed(app, "students", [student_row(status="graduated")])
    again = import_feed(app, "students", [student_row(status="graduated")])
    assert first.changes.counts and not again.changes.counts and again.unchanged == 1
