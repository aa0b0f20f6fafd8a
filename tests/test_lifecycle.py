"""The account lifecycle with a controllable clock: a graduate is warned, moved to the alumni
state (email stays, other services refuse with a code), and the office's extension brings the
account back; a staff member whose role ended is deactivated everywhere at once."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from lifecycle_support import DAY, account_of, enrolled, hr_row, import_feed, student_row, today
from oidc_support import auth_params, code_flow, pkce, register, token_request

from idp import db, messaging
from idp.identity import accounts, lifecycle, services


def _warnings(outbox, to="maria@example.org"):
    return [m for m in outbox.to(to) if "lifecycle" not in m["subject"] and " ends on " in
            m["subject"]]


def _run(app):
    with app.app_context():
        return lifecycle.run(actor="test")


def _sign_in_to_rp(client, login, username, password, client_id):
    _verifier, challenge = pkce()
    first = client.get("/oidc/authorize?" + urlencode(auth_params(client_id, challenge)))
    iid = parse_qs(urlsplit(first.location).query)["i"][0]
    return login(client, username, password, iid)


def test_a_graduate_is_warned_moved_to_alumni_and_extended_by_the_office(
        app, client, clock, outbox, login):
    username, password = enrolled(app)
    rp, secret = register(app)
    report = import_feed(app, "students", [student_row(status="graduated")])
    assert report.changes.counts["affiliation_ended"] == 1
    assert report.changes.counts["alumni_started"] == 1

    assert _run(app).counts["warned"] == 1
    _run(app)
    assert len(_warnings(outbox)) == 1 and "30" in _warnings(outbox)[0]["body"]
    clock.advance(23 * DAY)
    _run(app)
    _run(app)
    warnings = _warnings(outbox)
    assert len(warnings) == 2 and "(in 7 days)" in warnings[1]["body"]
    assert "certificate of studies" in warnings[1]["body"]  # how to prove it, and to whom
    assert "βεβαίωση σπουδών" in warnings[1]["body"]  # in Greek first
    assert "accounts@example.edu" in warnings[1]["body"]

    clock.advance(22 * DAY)  # day 45: past the end (day 30) and 14 days of grace
    assert _run(app).counts["moved_to_alumni"] == 1
    assert account_of(app, username)[1] is not None
    refused = _sign_in_to_rp(app.test_client(), login, username, password, rp)
    assert refused.status_code == 403 and "LIFE-002" in refused.get_data(as_text=True)
    with app.app_context():
        account = accounts.find_by_username(username)
        assert "email" in services.enabled(account) and "vpn" not in services.enabled(account)
    assert len(_warnings(outbox)) == 2  # nothing more was sent

    until = (today(app) + timedelta(days=365)).isoformat()
    result = app.test_cli_runner().invoke(args=[
        "account", "extend", username, "--until", until, "--evidence",
        "certificate_of_studies", "--note", "certificate 1234/2026 from the secretariat",
        "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"username": username, "status": "active",
                                         "valid_until": until}
    tokens, _, _ = code_flow(app.test_client(), login, app, username=username,
                             password=password, client_id=rp, secret=secret)
    assert tokens["access_token"]


def test_a_staff_member_whose_role_ended_is_deactivated_everywhere_at_once(
        app, client, clock, login):
    username, password = enrolled(app, source="hr", role="staff", registration="H100")
    rp, secret = register(app)
    import_feed(app, "hr", [hr_row("H100", status="inactive")])
    clock.advance(44 * DAY)  # the end (day 30) and the grace (14 days) are over tomorrow
    tomorrow = str(today(app) + timedelta(days=1))
    dry = app.test_cli_runner().invoke(args=["lifecycle", "run", "--dry-run", "--json",
                                             "--as-of", tomorrow])
    assert json.loads(dry.output)["counts"] == {"deactivated": 1}
    assert account_of(app, username)[0] == "active"  # a dry run writes nothing
    tokens, _, _ = code_flow(client, login, app, username=username, password=password,
                             client_id=rp, secret=secret)
    assert client.get("/account").status_code == 200

    result = app.test_cli_runner().invoke(args=["lifecycle", "run", "--json", "--as-of",
                                                tomorrow])
    assert json.loads(result.output)["counts"] == {"deactivated": 1}
    assert account_of(app, username)[0] == "expired"
    assert client.get("/account").status_code == 302  # the live session ended
    refresh = token_request(client, {"grant_type": "refresh_token",
                                      "refresh_token": tokens["refresh_token"]}, rp, secret)
    assert refresh.status_code == 400 and refresh.get_json()["error"] == "invalid_grant"
    userinfo = client.get("/oidc/userinfo",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 401
    for lang, proof in (("el", "βεβαίωση σπουδών"), ("en", "certificate of studies")):
        browser = app.test_client()
        browser.set_cookie("kleidi_lang", lang, domain="localhost")
        page = login(browser, username, password)
        body = page.get_data(as_text=True)
        assert page.status_code == 403 and "LIFE-001" in body
        assert "accounts@example.edu" in body and proof in body


def test_the_worker_runs_the_lifecycle(app, outbox):
    enrolled(app, source="hr", role="academic_fellow", registration="H8")
    end = today(app) + timedelta(days=6)
    import_feed(app, "hr", [hr_row("H8", role="academic_fellow", contractEnd=end.isoformat())])
    stop = threading.Event()
    worker = threading.Thread(target=messaging.run_worker,
                              kwargs={"app": app, "interval": 0.05, "stop": stop})
    worker.start()
    try:
        for _ in range(100):
            with app.app_context():
                if db.session().query(lifecycle.Notice).count():
                    break
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(10)
    assert [w["body"].count("(in 6 days)") for w in _warnings(outbox)] == [1]


def test_warnings_go_once_even_when_runs_repeat_and_skip_days(app, clock, outbox):
    enrolled(app, source="hr", role="academic_fellow", registration="H7",
             contract_end=None)
    with app.app_context():
        end = today(app) + timedelta(days=5)
    import_feed(app, "hr", [hr_row("H7", role="academic_fellow", contractEnd=end.isoformat())])
    for _ in range(3):
        _run(app)
    warnings = _warnings(outbox)
    assert len(warnings) == 1 and "(in 5 days)" in warnings[0]["body"]  # only the nearest
    with app.app_context():
        assert db.session().query(lifecycle.Notice).count() == 1
