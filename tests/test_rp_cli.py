"""`kleidi sp list|show|remove`, `kleidi client list|show|update|remove|rotate-secret` and
`kleidi rp`: the operators' commands, with --json, and their audit records."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from oidc_support import REDIRECT, code_flow, register, token_request
from rp_support import metadata

from idp import db
from idp.audit import AuditEvent
from idp.consent import Consent
from idp.oidc.models import OidcGrant
from idp.saml import registrations

ENTITY = "https://wiki.example.org/sp"


def _run(app, *arguments, code=0):
    result = app.test_cli_runner().invoke(args=list(arguments))
    assert result.exit_code == code, result.output
    return json.loads(result.output) if "--json" in arguments and code == 0 else result.output


def _events(app, name):
    with app.app_context():
        return [e.detail for e in db.session().scalars(
            sa.select(AuditEvent).where(AuditEvent.event == name))]


@pytest.fixture
def registered_sp(app):
    app.config["SAML_METADATA_CHECK_SECONDS"] = 0
    with app.app_context():
        registrations.add_metadata(metadata(ENTITY, "https://wiki.example.org/acs"))
        registrations.set_policy(ENTITY, attributes=["eppn"])
        db.session().commit()
    return ENTITY


def test_sp_list_show_and_remove_in_json(app, registered_sp):
    listed = _run(app, "sp", "list", "--json")
    assert {"entity_id": ENTITY, "source": "database", "release": ["eppn"]} in listed
    shown = _run(app, "sp", "show", ENTITY, "--json")
    assert shown["acs"] == ["https://wiki.example.org/acs"]
    assert shown["names"] == {"el": "Βιβλιοθήκη", "en": "Library"}
    assert shown["registration"] is None and shown["policy"]["sign_response"] is True
    assert _run(app, "sp", "remove", ENTITY, "--reason", "retired", "--json") == {"removed": ENTITY}
    assert ENTITY not in [sp["entity_id"] for sp in _run(app, "sp", "list", "--json")]
    assert _events(app, "rp.removed")[-1]["reason"] == "retired"
    gone = _run(app, "sp", "remove", ENTITY, "--reason", "again", code=1)
    assert "RP-016: No SAML service provider" in gone
    assert "unknown SP" in _run(app, "sp", "show", ENTITY, code=1)


def test_sp_remove_forgets_the_consents_given_to_it(app, registered_sp, make_account):
    username, _ = make_account()
    with app.app_context():
        from idp.identity import accounts
        db.session().add(Consent(account_id=accounts.find_by_username(username).id,
                                 relying_party=ENTITY, attribute_names=["eppn"]))
        db.session().commit()
    _run(app, "sp", "remove", ENTITY, "--reason", "retired")
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(Consent)) == 0


def test_client_list_show_update_and_rotate_secret(app, client, login, make_account):
    client_id, secret = register(app, name="Wiki")
    listed = _run(app, "client", "list", "--json")
    assert [c["client_id"] for c in listed] == [client_id] and secret not in json.dumps(listed)
    shown = _run(app, "client", "show", client_id, "--json")
    assert shown["name"] == "Wiki" and shown["has_secret"] and shown["redirect_uris"] == [REDIRECT]
    updated = _run(app, "client", "update", client_id, "--name", "Wiki 2", "--scope", "openid",
                   "--scope", "email", "--json")
    assert updated["name"] == "Wiki 2" and updated["scopes"] == ["openid", "email"]
    assert updated["redirect_uris"] == [REDIRECT]  # what is not given stays
    refused = _run(app, "client", "update", client_id, "--redirect-uri", "http://wiki.example.org/",
                   code=2)
    assert "must be https" in refused
    new = _run(app, "client", "rotate-secret", client_id, "--reason", "leaked", "--json")["client_secret"]
    assert new != secret
    username, password = make_account()
    tokens, _params, _back = code_flow(client, login, app, username=username, password=password,
                                       client_id=client_id, secret=new, scope="openid email")
    assert tokens["access_token"]
    old = token_request(client, {"grant_type": "refresh_token",
                                 "refresh_token": tokens["refresh_token"]}, client_id, secret)
    assert old.status_code == 401
    assert _events(app, "oidc.client_secret_rotated")[-1]["reason"] == "leaked"
    assert _events(app, "oidc.client_updated")[-1]["changed"] == ["name", "scopes"]


def test_client_remove_ends_its_grants_and_consents(app, client, login, make_account):
    client_id, secret = register(app)
    username, password = make_account()
    tokens, _params, _back = code_flow(client, login, app, username=username, password=password,
                                       client_id=client_id, secret=secret)
    assert _run(app, "client", "remove", client_id, "--reason", "closed", "--json") == {
        "removed": client_id}
    with app.app_context():
        grants = db.session().scalars(sa.select(OidcGrant)).all()
        assert grants and all(g.revoked_at is not None for g in grants)
        assert db.session().scalar(sa.select(sa.func.count()).select_from(Consent)) == 0
    answer = client.get("/oidc/userinfo",
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert answer.status_code == 401
    assert "RP-016" in _run(app, "client", "remove", client_id, "--reason", "again", code=1)
    assert "no client" in _run(app, "client", "show", client_id, code=1)


def test_rp_commands_refuse_what_the_states_do_not_allow(app, make_account, ctx):
    from idp.identity import accounts
    from idp.relying_parties import registration

    username, _ = make_account(role="faculty")
    rp, _secret = registration.create(
        accounts.find_by_username(username), "saml",
        {"metadata": metadata(ENTITY, "https://wiki.example.org/acs")},
        {"eppn": "to know who edits"}, {}, {})
    db.session().commit()
    assert "RP-010" in _run(app, "rp", "approve", str(rp.id), code=1)  # a draft
    registration.submit(rp, accounts.find_by_username(username))
    db.session().commit()
    assert "RP-012" in _run(app, "rp", "reject", str(rp.id), "--reason", " ", code=1)
    assert "RP-011" in _run(app, "rp", "approve", str(rp.id), "--release", "email", code=1)
    listed = _run(app, "rp", "list", "--state", "submitted", "--json")
    assert [r["identifier"] for r in listed] == [ENTITY]
    assert listed[0]["requested"] == {"eppn": "to know who edits"}
    assert listed[0]["owners"] == [username]
    approved = _run(app, "rp", "approve", ENTITY, "--reason", "fine", "--json")
    assert approved["state"] == "active" and approved["approved"] == ["eppn"]
    event = _events(app, "rp.approved")[-1]
    assert event["release"] == ["eppn"] and event["reason"] == "fine"


def test_a_refusal_is_printed_in_english_by_a_command_outside_any_request(app, make_account):
    from idp.identity import accounts
    from idp.relying_parties import registration

    username, _ = make_account(role="faculty")
    with app.app_context():
        rp, _secret = registration.create(
            accounts.find_by_username(username), "saml",
            {"metadata": metadata(ENTITY, "https://wiki.example.org/acs")},
            {"eppn": "to know who edits"}, {}, {})
        db.session().commit()
    refused = _run(app, "rp", "approve", str(rp.id), code=1)
    assert "RP-010: The service is not in a state that allows this" in refused


def test_an_oidc_registration_is_previewed_and_published_claim_by_claim(app, make_account, ctx):
    from idp.identity import accounts
    from idp.oidc import clients
    from idp.relying_parties import registration

    owner, _ = make_account(role="staff")
    person, _ = make_account("nikos")
    account = accounts.find_by_username(owner)
    rp, secret = registration.create(
        account, "oidc", {"redirect_uris": ["https://lab.example.org/cb"],
                          "auth_method": "client_secret_post"},
        {"email": "to write", "given_name": "to greet", "affiliation": "to sort"},
        {"el": "Εργαστήριο", "en": "Lab"}, {"technical": "t@lab.example.org",
                                             "security": "s@lab.example.org"})
    registration.submit(rp, account)
    db.session().commit()
    preview = _run(app, "rp", "preview", rp.identifier, person, "--release",
                   "email,given_name", "--json")
    assert preview["email"] == ["nikos@example.edu"] and preview["given_name"] == ["Μαρία"]
    assert preview["email_verified"] == ["True"] and len(preview["sub"][0]) > 20
    assert "family_name" not in preview and "eduperson_affiliation" not in preview
    _run(app, "rp", "approve", str(rp.id), "--release", "email,given_name")
    client = clients.find(rp.identifier)
    assert client.scopes == ["openid", "profile", "email"]
    assert client.released_attributes == ["email", "given_name"]
    assert client.secret_hash == clients.hash_secret(secret) and client.name == "Lab"


def test_a_generated_client_id_never_reads_as_a_command_option(monkeypatch):
    """A client_id starting with "-" would be taken by kleidi client/rp commands for an option."""
    from idp.oidc import clients

    drawn = iter(["-IgS8li2jZd6tX0w8zAQImgL", "IgS8li2jZd6tX0w8zAQImgL"])
    monkeypatch.setattr(clients.secrets, "token_urlsafe", lambda _n: next(drawn))
    assert clients.new_client_id() == "IgS8li2jZd6tX0w8zAQImgL"
