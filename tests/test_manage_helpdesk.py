"""The helpdesk: find a person, see their account, disable or enable it with a reason (which
ends their sessions and OIDC refresh tokens at once), correct names (the office), all audited
with the operator, the reason and the request id; the CLI calls the same functions."""

import json

import pytest
import sqlalchemy as sa
from oidc_support import code_flow, register, token_request

from idp import db
from idp.audit import AuditEvent
from idp.identity import accounts


def _events(app, name):
    with app.app_context():
        return db.session().scalars(sa.select(AuditEvent).where(AuditEvent.event == name)
                                    .order_by(AuditEvent.id)).all()


@pytest.fixture
def person(make_account):
    return make_account("mpapad", registration="00054321", mobile="+306912345678",
                        external_email="maria.p@example.org")


@pytest.mark.parametrize("query", ["mpapad", "ΠΑΠΑΔΟΠΟΎΛΟΥ", "maria papa", "00054321"])
def test_search_by_username_name_or_registration_number(app, make_operator, person, query):
    client = make_operator("helpdesk").client(language="en")
    body = client.get("/manage/people", query_string={"q": query}).get_data(as_text=True)
    assert 'href="/manage/people/mpapad"' in body and "Maria Papadopoulou" in body


@pytest.mark.parametrize("query", ["zzzz", "%%", "m_pap"])  # wildcards are letters here
def test_search_finds_nothing_for_a_stranger(app, make_operator, person, query):
    for lang, text in (("el", "Κανένας λογαριασμός δεν ταιριάζει"), ("en", "No account matches")):
        client = make_operator("helpdesk").client(language=lang)
        body = client.get("/manage/people", query_string={"q": query}).get_data(as_text=True)
        assert text in body and "mpapad" not in body


@pytest.mark.parametrize("lang,words", [
    ("el", ("Ιδιότητες", "Πρόσφατες συνδέσεις", "Ιστορικό ελέγχου", "Απενεργοποίηση λογαριασμού")),
    ("en", ("Affiliations", "Recent sign-ins", "Audit trail", "Disable the account"))])
def test_the_page_of_a_person(app, make_operator, person, login, lang, words):
    login(app.test_client(), "mpapad", "wrong password")
    login(app.test_client(), *person)
    body = make_operator("helpdesk").client(language=lang).get("/manage/people/mpapad") \
        .get_data(as_text=True)
    for word in words:
        assert word in body, word
    assert "mpapad@example.edu" in body and "00054321" in body
    assert "+3069•••••678" in body and "m••••••@example.org" in body  # masked contacts
    assert "+306912345678" not in body and "maria.p@example.org" not in body
    assert "login.failure" in body and "login.success" in body


def test_an_unknown_username_is_a_coded_page(app, make_operator):
    response = make_operator("helpdesk").client(language="el").get("/manage/people/nobody")
    body = response.get_data(as_text=True)
    assert response.status_code == 404 and "MANAGE-004" in body
    assert "Δεν υπάρχει τέτοιος λογαριασμός" in body


def test_disabling_ends_the_session_and_the_refresh_token_at_once(
        app, make_operator, person, login, csrf):
    rp = register(app)
    browser = app.test_client()
    token, _, _ = code_flow(browser, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    assert browser.get("/account").status_code == 200
    helpdesk = make_operator("helpdesk")
    console = helpdesk.client(language="en")
    page = console.get("/manage/people/mpapad")
    done = console.post("/manage/people/mpapad/disable",
                        data={"csrf_token": csrf(page), "reason": "ticket 4711: stolen laptop"})
    assert done.status_code == 303
    assert browser.get("/account").headers["Location"].endswith("/login")
    refreshed = token_request(browser, {"grant_type": "refresh_token",
                                        "refresh_token": token["refresh_token"]}, *rp)
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"
    refused = login(app.test_client(), *person)
    assert "LOGIN-003" in refused.get_data(as_text=True) or refused.status_code == 403
    [event] = _events(app, "account.disabled")
    assert event.actor == f"operator:{helpdesk.username}"
    assert event.detail["reason"] == "ticket 4711: stolen laptop"
    assert len(event.detail["request_id"]) == 16
    body = console.get("/manage/people/mpapad").get_data(as_text=True)
    assert "Enable the account" in body and "ticket 4711: stolen laptop" in body
    console.post("/manage/people/mpapad/enable", data={"csrf_token": csrf(page), "reason": "found"})
    assert login(app.test_client(), *person).status_code == 303
    assert _events(app, "account.enabled")[0].detail["reason"] == "found"


def test_no_action_without_a_reason(app, make_operator, person, csrf):
    console = make_operator("helpdesk").client(language="en")
    page = console.get("/manage/people/mpapad")
    refused = console.post("/manage/people/mpapad/disable", data={"csrf_token": csrf(page),
                                                                   "reason": ""})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "MANAGE-007" in body and "A reason is needed" in body
    with app.app_context():
        assert accounts.find_by_username("mpapad").status == "active"


def test_the_cli_disables_and_enables_through_the_same_function(app, person):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["account", "disable", "mpapad"]).exit_code == 2  # --reason
    done = runner.invoke(args=["account", "disable", "mpapad", "--reason", "ticket 5", "--json"])
    assert json.loads(done.output) == {"username": "mpapad", "status": "disabled", "changed": True}
    again = runner.invoke(args=["account", "disable", "mpapad", "--reason", "x"])
    assert "was not changed (status disabled)" in again.output
    assert "mpapad enabled" in runner.invoke(
        args=["account", "enable", "mpapad", "--reason", "ok"]).output
    [event] = _events(app, "account.disabled")
    assert event.actor == "cli" and event.detail == {"reason": "ticket 5", "previous": "active"}
    found = json.loads(runner.invoke(args=["account", "search", "papadop", "--json"]).output)
    assert [entry["username"] for entry in found] == ["mpapad"]


def test_the_office_corrects_names_and_the_old_ones_are_kept(app, make_operator, person, csrf):
    helpdesk_only = make_operator("helpdesk").client(language="en")
    assert "Correct the names" not in helpdesk_only.get("/manage/people/mpapad").get_data(as_text=True)
    console = make_operator("office").client(language="en")
    page = console.get("/manage/people/mpapad")
    assert "Correct the names" in page.get_data(as_text=True)
    console.post("/manage/people/mpapad/names", data={
        "names-csrf_token": csrf(page), "names-given_name_el": "Μαρία",
        "names-family_name_el": "Παπαδοπούλου-Κ", "names-given_name_en": "Maria",
        "names-family_name_en": "Papadopoulou-K", "names-reason": "police ID AB123456"})
    body = console.get("/manage/people/mpapad").get_data(as_text=True)
    assert "Παπαδοπούλου-Κ" in body
    [event] = _events(app, "person.names_corrected")
    assert event.detail["old"] == {"family_name_el": "Παπαδοπούλου", "family_name_en": "Papadopoulou"}
    assert event.detail["new"]["family_name_en"] == "Papadopoulou-K"
    assert event.detail["reason"] == "police ID AB123456"


def test_the_cli_corrects_names(app, person):
    out = app.test_cli_runner().invoke(args=["account", "correct-names", "mpapad", "--given-en",
                                             "Marianna", "--reason", "ID card", "--json"])
    assert json.loads(out.output) == {"given_name_en": {"old": "Maria", "new": "Marianna"}}


def test_the_helpdesk_lifts_a_guessing_block_and_removes_a_lost_second_factor(
        app, clock, make_operator, person, login, csrf):
    from mfa_helpers import enrol

    from idp.credentials import throttle

    enrol(app, clock, "mpapad")
    for _ in range(3):
        login(app.test_client(), "mpapad", "wrong password")
    console = make_operator("helpdesk").client(language="en")
    page = console.get("/manage/people/mpapad")
    body = page.get_data(as_text=True)
    assert "Lift the guessing block" in body and "Remove the second factor" in body
    console.post("/manage/people/mpapad/guessing-block",
                 data={"csrf_token": csrf(page), "reason": "ID card seen"})
    console.post("/manage/people/mpapad/second-factor",
                 data={"csrf_token": csrf(page), "reason": "lost phone, ID card seen"})
    with app.test_request_context():
        assert throttle.account_state("mpapad").failures == 0
    body = console.get("/manage/people/mpapad").get_data(as_text=True)
    assert "Lift the guessing block" not in body and "Remove the second factor" not in body
    assert _events(app, "login.throttle_cleared")[0].detail["failures"] == 3
    assert _events(app, "mfa.removed")[0].detail["reason"] == "lost phone, ID card seen"
    assert login(app.test_client(), *person).headers["Location"].endswith("/login/continue")


def test_the_office_extends_an_account_on_proof(app, make_operator, make_account, csrf):
    make_account("contr", role="contractor")
    console = make_operator("office").client(language="en")
    page = console.get("/manage/people/contr")
    assert "Extend the account" in page.get_data(as_text=True)
    past = console.post("/manage/people/contr/extend", data={
        "csrf_token": csrf(page), "until": "2001-01-01", "evidence": "contract", "note": "x"})
    assert past.status_code == 400 and "LIFE-004" in past.get_data(as_text=True)
    done = console.post("/manage/people/contr/extend", data={
        "csrf_token": csrf(page), "until": "2099-08-31", "evidence": "contract",
        "note": "contract 12/2026 seen"})
    assert done.status_code == 303
    assert "2099-08-31" in console.get("/manage/people/contr").get_data(as_text=True)
    [event] = _events(app, "account.extended")
    assert event.actor.startswith("operator:") and event.detail["until"] == "2099-08-31"
