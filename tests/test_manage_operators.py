"""Operators are given and lose roles by `kleidi operator` and by /manage/operators (admins),
both through the same core function, which audits who did it, why, and in which request."""

import json

import sqlalchemy as sa

from idp import db
from idp.audit import AuditEvent


def _events(app, name):
    with app.app_context():
        return db.session().scalars(sa.select(AuditEvent).where(AuditEvent.event == name)
                                    .order_by(AuditEvent.id)).all()


def test_the_cli_grants_lists_and_revokes(app, make_account, clock):
    username, _ = make_account()
    runner = app.test_cli_runner()
    done = runner.invoke(args=["operator", "grant", username, "helpdesk", "--reason", "ticket 9"])
    assert done.exit_code == 0 and "granted helpdesk" in done.output, done.output
    again = runner.invoke(args=["operator", "grant", username, "helpdesk", "--json"])
    assert json.loads(again.output) == {"username": username, "roles": ["helpdesk"],
                                        "changed": False}
    runner.invoke(args=["operator", "grant", username, "admin"])
    listed = json.loads(runner.invoke(args=["operator", "list", "--json"]).output)
    assert listed == [{"username": username, "roles": ["helpdesk", "admin"], "status": "active",
                       "second_factor": False}]
    assert "NO second factor" in runner.invoke(args=["operator", "list"]).output
    gone = runner.invoke(args=["operator", "revoke", username, "helpdesk", "--json"])
    assert json.loads(gone.output)["roles"] == ["admin"]
    [granted, _admin] = _events(app, "operator.granted")
    assert granted.actor == "cli" and granted.detail["role"] == "helpdesk"
    assert granted.detail["reason"] == "ticket 9"
    assert _events(app, "operator.revoked")[0].detail["role"] == "helpdesk"


def test_the_cli_refuses_unknown_roles_accounts_and_non_personal_accounts(app, make_account):
    username, _ = make_account()
    shared, _ = make_account(kind="nonpersonal")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["operator", "grant", username, "root"]).exit_code == 2
    missing = runner.invoke(args=["operator", "grant", "nobody", "office"])
    assert missing.exit_code == 1 and "no account nobody" in missing.output
    refused = runner.invoke(args=["operator", "grant", shared, "office"])
    assert refused.exit_code == 1 and "MANAGE-006" in refused.output
    assert json.loads(runner.invoke(args=["operator", "list", "--json"]).output) == []


def test_an_admin_grants_and_revokes_in_the_console(app, make_operator, make_account, csrf):
    admin = make_operator("admin")
    username, _ = make_account()
    client = admin.client(language="en")
    page = client.get("/manage/operators")
    assert "Grant a role" in page.get_data(as_text=True)
    done = client.post("/manage/operators", data={"csrf_token": csrf(page), "username": username,
                                                   "role": "office", "reason": "new clerk"})
    assert done.status_code == 303
    body = client.get("/manage/operators").get_data(as_text=True)
    assert username in body and "Revoke Account office" in body
    assert "not set up: the console stays closed" in body
    [event] = _events(app, "operator.granted")[-1:]
    assert event.actor == f"operator:{admin.username}" and event.detail["reason"] == "new clerk"
    assert len(event.detail["request_id"]) == 16
    client.post(f"/manage/operators/{username}/revoke",
                data={"csrf_token": csrf(page), "role": "office", "reason": "left"})
    assert username not in client.get("/manage/operators").get_data(as_text=True)
    assert _events(app, "operator.revoked")[0].detail["reason"] == "left"


def test_the_console_refuses_a_grant_without_reason_or_to_nobody(app, make_operator, csrf):
    client = make_operator("admin").client(language="el")
    page = client.get("/manage/operators")
    assert "Απόδοση ρόλου" in page.get_data(as_text=True)
    blank = client.post("/manage/operators", data={"csrf_token": csrf(page), "username": "x",
                                                    "role": "office", "reason": ""})
    assert blank.status_code == 400 and "Διορθώστε τα παρακάτω" in blank.get_data(as_text=True)
    nobody = client.post("/manage/operators", data={"csrf_token": csrf(page), "username": "nobody",
                                                     "role": "office", "reason": "x"})
    text = nobody.get_data(as_text=True)
    assert nobody.status_code == 404 and "MANAGE-004" in text
    assert "Δεν υπάρχει τέτοιος λογαριασμός" in text
    assert _events(app, "operator.granted")[-1].actor == "test"
