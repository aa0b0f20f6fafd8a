"""Removing a service in force on the console (/manage/relying-parties, the federation role)
as with `kleidi sp remove` / `kleidi client remove`: an approved registration and a service
added by command, a reason on both, RP-016 for what is not served, the audit record."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from oidc_support import (
    REDIRECT,
    auth_params,
    code_flow,
    pkce,
    query,
    register,
    sign_in_and_authorize,
    token_request,
)
from rp_support import email_of, metadata
from saml_sp import IndependentSP, path_and_query, sso

from idp import db
from idp.audit import AuditEvent
from idp.identity import accounts
from idp.oidc import relying_party
from idp.relying_parties import registration, review
from idp.relying_parties.models import RelyingParty

pytest_plugins = ("saml_fixtures",)

EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
ENTITY = "https://wiki.example.org/sp"


def _events(app, event: str = "rp.removed") -> list[AuditEvent]:
    with app.app_context():
        return list(db.session().scalars(sa.select(AuditEvent).where(
            AuditEvent.event == event)))


def _code(response) -> str:
    """The error code a page shows."""
    return re.search(r'class="code">\(?([A-Z]+-\d{3})', response.get_data(as_text=True)).group(1)


def _confirm(console, kind: str, identifier: str):
    return console.get("/manage/relying-parties/remove?"
                       + urlencode({"kind": kind, "identifier": identifier}))


def _remove(console, csrf, kind, identifier, reason):
    page = _confirm(console, kind, identifier)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    return console.post("/manage/relying-parties/remove", data={
        "csrf_token": csrf(page), "kind": kind, "identifier": identifier, "reason": reason})


def _served(console) -> str:
    """The console's list of what is served now."""
    page = console.get("/manage/relying-parties").get_data(as_text=True)
    return page.split('id="served"')[1].split("</table>")[0]


@pytest.fixture
def sp_registered(app):
    """A SAML SP added by command, as `kleidi sp add` does."""
    from idp.saml import registrations

    app.config["SAML_METADATA_CHECK_SECONDS"] = 0
    with app.app_context():
        registrations.add_metadata(metadata(ENTITY, "https://wiki.example.org/acs"))
        db.session().commit()
    return ENTITY


@pytest.fixture
def approved_sp(saml_app, client, tmp_path, make_account):
    """An independent SP registered in the portal by its owner and approved with eppn."""
    sp = IndependentSP("library.example.org", client.get("/saml/metadata").get_data(as_text=True),
                       tmp_path)
    owner, _ = make_account(role="staff", language="en")
    with saml_app.app_context():
        account = accounts.find_by_username(owner)
        rp, _secret = registration.create(
            account, "saml", {"metadata": sp.metadata()}, {"eppn": "to match loans"},
            {"el": "Βιβλιοθήκη", "en": "Library"},
            {"technical": "tech@example.org", "security": "security@example.org"})
        registration.submit(rp, account)
        review.approve(rp, ["eppn"], actor="test")
        db.session().commit()
        return sp, rp.id, owner


def test_an_approved_sp_removed_on_the_console_gets_no_assertion(
        app, client, csrf, login, make_account, make_operator, approved_sp, outbox):
    sp, rp_id, owner = approved_sp
    login(client, *make_account())
    assert EPPN in sso(client, sp, csrf).get_attributes()  # served until now
    operator = make_operator("federation")
    console = operator.client(language="en")
    page = console.get(f"/manage/relying-parties/{rp_id}").get_data(as_text=True)
    assert "Remove the service" in page
    link = re.search(r'href="(/manage/relying-parties/remove\?[^"]+)"', page).group(1)
    confirm = console.get(html.unescape(link)).get_data(as_text=True)
    assert "Remove Library?" in confirm and owner in confirm
    assert "the identity provider answers it no more" in confirm
    assert "its owners are told by email" in confirm
    assert EPPN in sso(client, sp, csrf).get_attributes()  # the confirmation changes nothing
    done = _remove(console, csrf, "saml", sp.entity_id, "the library moved to another IdP")
    assert done.status_code == 303  # then a page of its own: a reload repeats nothing
    for _reload in range(2):
        shown = console.get(done.location)
        text = shown.get_data(as_text=True)
        assert shown.status_code == 200 and "The service was removed" in text
        assert f'<code id="rp-identifier">{sp.entity_id}</code>' in text
    assert sp.entity_id not in _served(console)
    assert console.get(f"/manage/relying-parties/{rp_id}").status_code == 404
    refused = client.get(path_and_query(sp.login_redirect()))
    assert refused.status_code == 400 and _code(refused) == "SAML-001"
    assert "SAMLResponse" not in refused.get_data(as_text=True)
    [event] = _events(app)
    assert event.actor == f"operator:{operator.username}" and event.detail["request_id"]
    assert event.detail["relying_party"] == sp.entity_id and event.detail["kind"] == "saml"
    assert event.detail["reason"] == "the library moved to another IdP"
    [forgotten] = _events(app, "saml.sp_removed")  # the metadata's own record: the same actor
    assert forgotten.actor == event.actor
    told = outbox.to(email_of(app, owner))[-1]
    assert told["subject"] == "Library was removed"
    assert "Their reason: the library moved to another IdP" in told["body"]


def test_a_client_added_by_command_is_removed_on_the_console_and_its_tokens_end(
        app, client, csrf, login, make_account, make_operator):
    client_id, secret = register(app, name="Wiki")
    username, password = make_account()
    tokens, _params, _back = code_flow(client, login, app, username=username, password=password,
                                       client_id=client_id, secret=secret)
    console = make_operator("federation").client(language="el")
    served = _served(console)
    assert f"<code>{client_id}</code>" in served and "καμία (προστέθηκε με εντολή)" in served
    confirm = _confirm(console, "oidc", client_id).get_data(as_text=True)
    assert "τα tokens της τερματίζονται" in confirm
    done = _remove(console, csrf, "oidc", client_id, "ticket 4711")
    assert done.status_code == 303
    assert "Η υπηρεσία αφαιρέθηκε" in console.get(done.location).get_data(as_text=True)
    assert client_id not in _served(console)
    refresh = token_request(client, {"grant_type": "refresh_token",
                                     "refresh_token": tokens["refresh_token"]}, client_id, secret)
    assert refresh.status_code == 401 and refresh.get_json()["error"] == "invalid_client"
    userinfo = client.get("/oidc/userinfo",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 401
    [event] = _events(app)
    assert event.detail["relying_party"] == client_id and event.detail["kind"] == "oidc"
    assert event.detail["reason"] == "ticket 4711"


def test_a_removal_needs_a_reason_on_the_console_and_at_the_command_line(
        app, csrf, make_operator, sp_registered):
    console = make_operator("federation").client(language="en")
    empty = _remove(console, csrf, "saml", ENTITY, "")
    assert empty.status_code == 400 and 'id="remove-reason"' in empty.get_data(as_text=True)
    assert 'aria-invalid="true"' in empty.get_data(as_text=True)
    blank = _remove(console, csrf, "saml", ENTITY, "   ")
    assert blank.status_code == 400 and _code(blank) == "RP-017"
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["sp", "remove", ENTITY])
    assert missing.exit_code == 2 and "--reason" in missing.output
    blank = runner.invoke(args=["sp", "remove", ENTITY, "--reason", " "])
    assert blank.exit_code == 1 and "RP-017: Removing a service must say why" in blank.output
    assert ENTITY in _served(console) and _events(app) == []


def test_only_the_federation_role_removes_and_only_with_the_forms_token(
        app, csrf, make_operator, sp_registered):
    helpdesk = make_operator("helpdesk").client(language="en")
    refused = _confirm(helpdesk, "saml", ENTITY)
    assert refused.status_code == 403 and _code(refused) == "MANAGE-003"
    page = helpdesk.get("/account/password")  # a form of its own: a valid token
    refused = helpdesk.post("/manage/relying-parties/remove", data={
        "csrf_token": csrf(page), "kind": "saml", "identifier": ENTITY, "reason": "x"})
    assert refused.status_code == 403 and _code(refused) == "MANAGE-003"
    console = make_operator("federation").client(language="en")
    forged = console.post("/manage/relying-parties/remove", data={
        "kind": "saml", "identifier": ENTITY, "reason": "x"})
    assert forged.status_code == 400 and _code(forged) == "GEN-003"
    assert ENTITY in _served(console) and _events(app) == []


def test_what_is_not_served_answers_rp_016(app, csrf, make_operator, sp_registered, saml_app,
                                           tmp_path):
    console = make_operator("federation").client(language="en")
    page = _confirm(console, "saml", ENTITY)  # open in one tab …
    assert app.test_cli_runner().invoke(
        args=["sp", "remove", ENTITY, "--reason", "retired"]).exit_code == 0  # … gone meanwhile
    late = console.post("/manage/relying-parties/remove", data={
        "csrf_token": csrf(page), "kind": "saml", "identifier": ENTITY, "reason": "retired"})
    assert late.status_code == 404 and _code(late) == "RP-016"
    assert "removed already" in late.get_data(as_text=True)
    again = _confirm(console, "saml", ENTITY)
    assert again.status_code == 404 and _code(again) == "RP-016"
    assert _code(_confirm(console, "oidc", "no-such-client")) == "RP-016"
    # An SP of a metadata file is served, but not removable here: it is changed in the file.
    (tmp_path / "metadata" / "file.xml").write_text(
        metadata("https://file.example.org/sp", "https://file.example.org/acs"))
    assert _code(_confirm(console, "saml", "https://file.example.org/sp")) == "RP-016"
    assert "https://file.example.org/sp" not in _served(console)
    result = app.test_cli_runner().invoke(args=["client", "remove", "no-such-client",
                                                "--reason", "x"])
    assert result.exit_code == 1 and "RP-016" in result.output
    assert [e.actor for e in _events(app)] == ["cli"]  # the one that removed something


def test_a_registration_never_approved_is_not_removed_but_left_in_review(
        app, make_account, make_operator, csrf):
    """Removal is for what is served; a submitted registration is withdrawn or rejected."""
    entity = "https://pending.example.org/shibboleth"
    owner, _password = make_account("pendingadmin", role="staff")
    with app.app_context():
        account = accounts.find_by_username(owner)
        rp, _secret = registration.create(
            account, "saml", {"metadata": metadata(entity, "https://pending.example.org/acs")},
            {"eppn": "to match loans"}, {}, {})
        registration.submit(rp, account)
        db.session().commit()
        rp_id = rp.id
    result = app.test_cli_runner().invoke(args=["sp", "remove", entity, "--reason", "x"])
    assert result.exit_code == 1 and "RP-016" in result.output
    console = make_operator("federation").client(language="en")
    page = console.get(f"/manage/relying-parties/{rp_id}")
    forged = console.post("/manage/relying-parties/remove", data={
        "csrf_token": csrf(page), "kind": "saml", "identifier": entity, "reason": "x"})
    assert forged.status_code == 404 and _code(forged) == "RP-016"
    assert console.get(f"/manage/relying-parties/{rp_id}").status_code == 200  # still there
    with app.app_context():
        assert db.session().get(RelyingParty, rp_id).state == "submitted"
    assert _events(app) == []
    # The result page tells only of a removal the operator made: a hand-made link is sent
    # back to the list.
    made = console.get("/manage/relying-parties/removed?kind=saml&identifier=" + entity)
    assert made.status_code == 303 and made.location.endswith("/manage/relying-parties")


def test_a_code_of_a_client_removed_on_another_instance_gets_no_tokens(
        app, client, login, make_account, monkeypatch):
    """Another instance may know a removed client for OIDC_CLIENT_CACHE_SECONDS more: it can
    still hand out a code, but that code starts no grant and its tokens never work."""
    client_id, secret = register(app, name="Wiki")
    username, password = make_account()
    verifier, challenge = pkce()
    back = query(sign_in_and_authorize(client, login, username, password,
                                       auth_params(client_id, challenge)))
    # The removal made elsewhere: this instance's cache of clients is left as it was.
    monkeypatch.setattr(relying_party, "_forget_cached", lambda _client_id: None)
    assert app.test_cli_runner().invoke(
        args=["client", "remove", client_id, "--reason", "retired"]).exit_code == 0
    exchange = token_request(client, {
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
        "code_verifier": verifier}, client_id, secret)
    assert exchange.status_code == 400 and exchange.get_json()["error"] == "invalid_grant"
    assert "access_token" not in exchange.get_json()
    with app.app_context():
        assert db.session().scalar(sa.text("SELECT count(*) FROM oidc_grant")) == 0
