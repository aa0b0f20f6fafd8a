"""The demo gives one operator per role, each with a TOTP secret that opens the console."""

import json

from conftest import csrf_token
from mfa_helpers import code


def test_the_demo_has_an_operator_per_role_who_reaches_the_console(app, login):
    runner = app.test_cli_runner()
    credentials = json.loads(runner.invoke(args=["demo", "--json"]).output.strip().splitlines()[-1])
    operators = {tuple(c["roles"]): c for c in credentials if c["totp_secret"]}
    assert set(operators) == {("office",), ("helpdesk",), ("federation",), ("admin",)}
    assert all(not c["roles"] and c["totp_secret"] is None
               for c in credentials if c not in operators.values())
    listed = json.loads(runner.invoke(args=["operator", "list", "--json"]).output)
    assert sorted(e["username"] for e in listed) == sorted(c["username"] for c in operators.values())
    assert all(e["second_factor"] for e in listed)
    for roles, entry in operators.items():
        client = app.test_client()
        client.set_cookie("kleidi_lang", "en", domain="localhost")
        assert login(client, entry["username"], entry["password"]).status_code == 303
        page = client.get("/login/second-factor")
        client.post("/login/second-factor", data={"csrf_token": csrf_token(page),
                                                  "code": code(app, entry["totp_secret"])})
        body = client.get("/manage").get_data(as_text=True)
        assert "Operators' console" in body and entry["username"] in body, roles
    readable = runner.invoke(args=["demo"]).output
    assert "operator: helpdesk; TOTP secret" in readable


def test_running_the_demo_again_gives_new_secrets(app):
    runner = app.test_cli_runner()
    first = json.loads(runner.invoke(args=["demo", "--json"]).output.strip().splitlines()[-1])
    second = json.loads(runner.invoke(args=["demo", "--json"]).output.strip().splitlines()[-1])
    secrets_of = [{c["username"]: c["totp_secret"] for c in run if c["totp_secret"]}
                  for run in (first, second)]
    assert secrets_of[0].keys() == secrets_of[1].keys()
    assert all(secrets_of[0][name] != secrets_of[1][name] for name in secrets_of[0])
