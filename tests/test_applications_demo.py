"""The demo has every kind of staff user: a faculty member and a contractor who can sign in,
and an application waiting for the office whose status page works with the printed secret."""

import json
import re

from conftest import csrf_token


def test_the_demo_has_faculty_a_contractor_and_a_pending_application(app, client, login):
    runner = app.test_cli_runner()
    text = runner.invoke(args=["demo"]).output
    roles = {role: (username, password) for username, password, role in
             re.findall(r"^  (\S+)\s+(\S+)  \((\w+)\)$", text, re.M)}
    assert {"faculty", "contractor"} <= set(roles)
    for role in ("faculty", "contractor"):
        assert login(app.test_client(), *roles[role]).status_code == 303
    pattern = r"\(submitted\): (\d{4}-\d{6}), secret ([A-Z2-9-]{19})"
    first = re.search(pattern, text).group(1)
    serial, secret = re.search(pattern, runner.invoke(args=["demo"]).output).groups()
    assert serial == first  # a new secret each run, for the same application
    listed = json.loads(runner.invoke(args=["applications", "list", "--json"]).output)
    assert [row["serial"] for row in listed] == [serial]  # the same one on every run
    page = client.get("/apply/status", headers={"Accept-Language": "en"})
    shown = client.post("/apply/status", headers={"Accept-Language": "en"}, data={
        "csrf_token": csrf_token(page), "serial": serial, "secret": secret})
    assert shown.status_code == 200 and "Submitted" in shown.get_data(as_text=True)
