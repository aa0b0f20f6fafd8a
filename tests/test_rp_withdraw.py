"""Withdrawing a registration that never served with `kleidi rp withdraw`; refused (RP-014)
once it was approved."""

from __future__ import annotations

import json

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


def _exists(app, rp_id) -> bool:
    with app.app_context():
        return db.session().get(RelyingParty, rp_id) is not None


def _events(app, name) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session().scalars(sa.select(AuditEvent).where(AuditEvent.event == name)))


def _co_owner(client, csrf, rp_id, username):
    page = client.get(f"/rp/{rp_id}")
    client.post(f"/rp/{rp_id}/owners", data={"csrf_token": csrf(page), "username": username})


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
