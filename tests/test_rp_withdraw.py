"""Withdrawing a registration that never served: by its owner at /rp, by an operator at
/manage/relying-parties and with `kleidi rp withdraw`; refused (RP-014) once it was approved."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from rp_support import attribute_fields, description, email_of, metadata, rp_id_from

from idp import db
from idp.audit import AuditEvent
from idp.relying_parties.models import RelyingParty, RelyingPartyOwner

ENTITY = "https://library.example.org/shibboleth"
ACS = "https://library.example.org/Shibboleth.sso/SAML2/POST"


@pytest.fixture
def owner(client, make_account, login):
    username, password = make_account(role="staff")
    login(client, username, password)
    return username


def _register(client, csrf, action="save", entity=ENTITY) -> int:
    page = client.get("/rp/new/saml")
    answer = client.post("/rp/new/saml", data={
        "csrf_token": csrf(page), "metadata_text": metadata(entity, ACS),
        **description(name_el="Βιβλιοθήκη", name_en="Library"),
        **attribute_fields({"eppn": "to match loans"}), "action": action})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    return rp_id_from(answer.headers["Location"])


def _withdraw(client, csrf, rp_id):
    page = client.get(f"/rp/{rp_id}/withdraw")
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    return client.post(f"/rp/{rp_id}/withdraw", data={"csrf_token": csrf(page)})


def _exists(app, rp_id) -> bool:
    with app.app_context():
        return db.session().get(RelyingParty, rp_id) is not None


def _events(app, name) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session().scalars(sa.select(AuditEvent).where(AuditEvent.event == name)))


def _code(response) -> str:
    """The error code an error page shows."""
    return re.search(r'class="code">\(?([A-Z]+-\d{3})', response.get_data(as_text=True)).group(1)


def _co_owner(client, csrf, rp_id, username):
    page = client.get(f"/rp/{rp_id}")
    client.post(f"/rp/{rp_id}/owners", data={"csrf_token": csrf(page), "username": username})


def test_an_owner_withdraws_a_draft_and_can_register_its_entity_id_again(client, csrf, owner,
                                                                         app, outbox):
    rp_id = _register(client, csrf)
    assert "Βιβλιοθήκη" in client.get("/rp").get_data(as_text=True)
    show = client.get(f"/rp/{rp_id}").get_data(as_text=True)
    assert f'href="/rp/{rp_id}/withdraw"' in show
    confirm = client.get(f"/rp/{rp_id}/withdraw").get_data(as_text=True)
    assert "Δεν αναιρείται" in confirm and "τα μεταδεδομένα του παρόχου υπηρεσίας" in confirm
    assert ENTITY in confirm and _exists(app, rp_id)  # the confirmation itself changes nothing
    done = _withdraw(client, csrf, rp_id)
    assert done.status_code == 200 and "Η καταχώριση αποσύρθηκε" in done.get_data(as_text=True)
    listing = client.get("/rp").get_data(as_text=True)
    assert "Βιβλιοθήκη" not in listing and "Δεν έχετε ακόμη υπηρεσίες" in listing
    assert "RP-008" in client.get(f"/rp/{rp_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(RelyingPartyOwner)
                                   .where(RelyingPartyOwner.relying_party_id == rp_id)) == 0
    [event] = _events(app, "rp.withdrawn")
    assert event.actor == owner and event.account_id is not None
    assert event.detail["relying_party"] == ENTITY and event.detail["kind"] == "saml"
    assert event.detail["state"] == "draft"
    assert outbox.to(email_of(app, owner)) == []  # the only owner saw it happen
    _register(client, csrf)  # the entityID is free again
    assert "Βιβλιοθήκη" in client.get("/rp").get_data(as_text=True)


def test_a_withdrawn_submission_leaves_the_queue_and_the_co_owner_is_told(
        client, csrf, owner, app, make_account, make_operator, outbox):
    colleague, _ = make_account(role="faculty", language="en")
    rp_id = _register(client, csrf, action="submit")
    _co_owner(client, csrf, rp_id, colleague)
    console = make_operator("federation").client(language="en")
    queue = console.get("/manage/relying-parties").get_data(as_text=True)
    assert f"/manage/relying-parties/{rp_id}" in queue
    confirm = client.get(f"/rp/{rp_id}/withdraw").get_data(as_text=True)
    assert "αποχωρεί από την ουρά τους" in confirm and colleague in confirm
    assert _withdraw(client, csrf, rp_id).status_code == 200
    queue = console.get("/manage/relying-parties").get_data(as_text=True)
    assert f"/manage/relying-parties/{rp_id}" not in queue and ENTITY not in queue
    assert console.get(f"/manage/relying-parties/{rp_id}").status_code == 404
    [told] = outbox.to(email_of(app, colleague))
    assert told["subject"] == "The registration of Library was withdrawn"
    assert f"{owner}, a co-owner, withdrew the registration of Library ({ENTITY})" in told["body"]
    assert "http://localhost/rp\n" in told["body"]  # the list: the service has no page now
    assert [m["subject"] for m in outbox.to(email_of(app, owner))] == [
        "Η υπηρεσία Βιβλιοθήκη υποβλήθηκε για έλεγχο"]  # the submission's, nothing about its own act


@pytest.mark.settings(SAML_METADATA_CHECK_SECONDS=0)
def test_an_approved_service_is_refused_with_its_code_and_stays(client, csrf, owner, app,
                                                                 make_operator):
    rp_id = _register(client, csrf, action="submit")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rp", "approve", str(rp_id)]).exit_code == 0
    page = client.get(f"/rp/{rp_id}")
    assert "/withdraw" not in page.get_data(as_text=True)
    refused = client.get(f"/rp/{rp_id}/withdraw")
    assert refused.status_code == 409 and _code(refused) == "RP-014"
    refused = client.post(f"/rp/{rp_id}/withdraw", data={"csrf_token": csrf(page)})
    assert refused.status_code == 409 and _code(refused) == "RP-014"
    # An edit waiting for review: the approved version still serves, so still refused.
    edit = client.get(f"/rp/{rp_id}/edit")
    assert client.post(f"/rp/{rp_id}/edit", data={
        "csrf_token": csrf(edit), "metadata_text": metadata(ENTITY, ACS), **description(),
        **attribute_fields({"eppn": "to match loans", "email": "reminders"}),
        "action": "save"}).status_code == 303
    assert "/withdraw" not in client.get(f"/rp/{rp_id}").get_data(as_text=True)
    assert client.post(f"/rp/{rp_id}/withdraw",
                       data={"csrf_token": csrf(edit)}).status_code == 409
    console = make_operator("federation").client(language="en")
    review = console.get(f"/manage/relying-parties/{rp_id}")
    assert "cannot be withdrawn" in review.get_data(as_text=True)
    refused = console.post(f"/manage/relying-parties/{rp_id}/withdraw",
                           data={"csrf_token": csrf(review), "reason": "gone"})
    assert refused.status_code == 409 and "RP-014" in refused.get_data(as_text=True)
    with app.app_context():
        rp = db.session().get(RelyingParty, rp_id)
        assert rp.state == "draft" and rp.approved["release"] == ["eppn"]
        from idp.saml import directory
        assert directory.find(ENTITY).approved() == {"eppn"}
    assert _events(app, "rp.withdrawn") == []


def test_another_owners_and_an_unknown_registration_get_the_same_answer(
        client, csrf, owner, app, make_account, login):
    rp_id = _register(client, csrf)
    stranger = app.test_client()
    login(stranger, *make_account(role="staff"))
    page = stranger.get("/rp/new/saml")
    for path in (f"/rp/{rp_id}/withdraw", f"/rp/{rp_id + 100}/withdraw"):
        shown = stranger.get(path)
        sent = stranger.post(path, data={"csrf_token": csrf(page)})
        for answer in (shown, sent):
            assert answer.status_code == 404 and _code(answer) == "RP-008"
            assert ENTITY not in answer.get_data(as_text=True)
    assert _exists(app, rp_id) and _events(app, "rp.withdrawn") == []


def test_withdrawing_needs_the_forms_csrf_token(client, csrf, owner, app):
    rp_id = _register(client, csrf)
    answer = client.post(f"/rp/{rp_id}/withdraw")
    assert answer.status_code == 400 and "GEN-003" in answer.get_data(as_text=True)
    answer = client.post(f"/rp/{rp_id}/withdraw", data={"csrf_token": "forged"})
    assert answer.status_code == 400 and _exists(app, rp_id)


def test_an_operator_withdraws_a_rejected_registration_with_a_reason(
        client, csrf, owner, app, make_operator, outbox):
    rp_id = _register(client, csrf, action="submit")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rp", "reject", str(rp_id), "--reason", "no ACS"]).exit_code == 0
    operator = make_operator("federation")
    console = operator.client(language="en")
    page = console.get(f"/manage/relying-parties/{rp_id}")
    assert "Withdraw the registration" in page.get_data(as_text=True)
    answer = console.post(f"/manage/relying-parties/{rp_id}/withdraw",
                          data={"csrf_token": csrf(page), "reason": ""})
    assert answer.status_code == 400 and _exists(app, rp_id)
    answer = console.post(f"/manage/relying-parties/{rp_id}/withdraw",
                          data={"csrf_token": csrf(page), "reason": "registered twice"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(
        "/manage/relying-parties")
    assert not _exists(app, rp_id)
    [event] = _events(app, "rp.withdrawn")
    assert event.actor == f"operator:{operator.username}" and event.account_id is None
    assert event.detail["reason"] == "registered twice" and event.detail["state"] == "rejected"
    assert event.detail["request_id"]
    told = outbox.to(email_of(app, owner))[-1]
    assert told["subject"] == "Η καταχώριση της υπηρεσίας Βιβλιοθήκη αποσύρθηκε"
    assert "Οι διαχειριστές απέσυραν" in told["body"] and "registered twice" in told["body"]
    assert "RP-008" in client.get(f"/rp/{rp_id}").get_data(as_text=True)


def test_kleidi_rp_withdraw_in_json(client, csrf, owner, app, make_account, outbox):
    colleague, _ = make_account(role="faculty", language="en")
    rp_id = _register(client, csrf, action="submit")
    _co_owner(client, csrf, rp_id, colleague)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rp", "withdraw", ENTITY, "--reason", " ", "--json"])
    assert result.exit_code == 1 and "RP-015" in result.output and _exists(app, rp_id)
    result = runner.invoke(args=["rp", "withdraw", ENTITY, "--reason", "duplicate", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"withdrawn": ENTITY, "id": rp_id, "kind": "saml"}
    listed = json.loads(runner.invoke(args=["rp", "list", "--json"]).output)
    assert ENTITY not in [rp["identifier"] for rp in listed]
    result = runner.invoke(args=["rp", "withdraw", ENTITY, "--reason", "again"])
    assert result.exit_code == 1 and "no registered relying party" in result.output
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(RelyingPartyOwner)
                                   .where(RelyingPartyOwner.relying_party_id == rp_id)) == 0
    [event] = _events(app, "rp.withdrawn")
    assert event.actor == "cli" and event.account_id is None
    assert event.detail == {"relying_party": ENTITY, "kind": "saml", "state": "submitted",
                            "reason": "duplicate"}
    told = outbox.to(email_of(app, owner))[-1]  # every owner, each in their language
    assert told["subject"] == "Η καταχώριση της υπηρεσίας Βιβλιοθήκη αποσύρθηκε"
    assert "Οι διαχειριστές απέσυραν" in told["body"] and "duplicate" in told["body"]
    told = outbox.to(email_of(app, colleague))[-1]
    assert told["subject"] == "The registration of Library was withdrawn"
    assert "The operators withdrew" in told["body"] and "duplicate" in told["body"]


@pytest.mark.settings(SAML_METADATA_CHECK_SECONDS=0)
def test_an_approved_service_cannot_be_withdrawn_at_the_command_line(client, csrf, owner, app):
    rp_id = _register(client, csrf, action="submit")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rp", "approve", str(rp_id)]).exit_code == 0
    result = runner.invoke(args=["rp", "withdraw", str(rp_id), "--reason", "x"])
    assert result.exit_code == 1 and "RP-014: Only a registration that was never approved" \
        in result.output
    with app.app_context():
        assert db.session().get(RelyingParty, rp_id).state == "active"
        from idp.saml import directory
        assert directory.find(ENTITY).approved() == {"eppn"}
    assert _events(app, "rp.withdrawn") == []


def test_an_oidc_client_is_withdrawn_with_its_secret(client, csrf, owner, app):
    page = client.get("/rp/new/oidc")
    answer = client.post("/rp/new/oidc", data={
        "csrf_token": csrf(page), "redirect_uris": "https://lab.example.org/cb",
        "auth_method": "client_secret_basic", **description(),
        **attribute_fields({"email": "to write"}), "action": "save"})
    client_id = answer.get_data(as_text=True).split('id="client-id">')[1].split("<")[0]
    with app.app_context():
        rp_id = db.session().scalar(sa.select(RelyingParty.id).where(
            RelyingParty.identifier == client_id))
    confirm = client.get(f"/rp/{rp_id}/withdraw").get_data(as_text=True)
    assert "το μυστικό του πελάτη" in confirm
    assert _withdraw(client, csrf, rp_id).status_code == 200
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(RelyingParty)) == 0


def test_nothing_is_deleted_when_a_step_fails(client, csrf, owner, app, make_account,
                                              monkeypatch):
    colleague, _ = make_account(role="faculty")
    rp_id = _register(client, csrf)
    _co_owner(client, csrf, rp_id, colleague)
    from idp import messaging

    def broken(*_args, **_kwargs):
        raise RuntimeError("the outbox is unwell")

    monkeypatch.setattr(messaging, "enqueue", broken)
    result = app.test_cli_runner().invoke(args=["rp", "withdraw", ENTITY, "--reason", "test"])
    assert isinstance(result.exception, RuntimeError)
    assert _exists(app, rp_id) and _events(app, "rp.withdrawn") == []
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(RelyingPartyOwner)
                                   .where(RelyingPartyOwner.relying_party_id == rp_id)) == 2
