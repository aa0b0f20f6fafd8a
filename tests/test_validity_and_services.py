"""Validity per role, and services with their entitlements: what the person sees on the
account page, what the operators see, and what relying parties approved for it receive."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from conftest import csrf_token
from lifecycle_support import enrolled, today
from oidc_support import code_flow, register

from idp.identity import accounts, validity

saml_sp = pytest.importorskip("saml_sp")
pytest_plugins = ("saml_fixtures",)

EMAIL = "urn:mace:example.edu:service:email"
VPN = "urn:mace:example.edu:service:vpn"
ESECRETARIAT = "urn:mace:example.edu:service:esecretariat"
ENTITLEMENT = "urn:oid:1.3.6.1.4.1.5923.1.1.1.7"
EXPIRY = "urn:oid:1.3.6.1.4.1.25178.1.2.17"


def _ends_on(app, username):
    with app.test_request_context():
        return validity.ends_on(accounts.find_by_username(username))


def test_a_postdoc_ends_two_years_after_activation_and_faculty_never(app):
    postdoc, _ = enrolled(app, source="hr", role="postdoc", registration="P1",
                          activated_days_ago=10)
    faculty, _ = enrolled(app, source="hr", role="faculty", registration="F1")
    activated = today(app) - timedelta(days=10)
    assert _ends_on(app, postdoc) == activated.replace(year=activated.year + 2)
    assert _ends_on(app, faculty) is None
    shown = app.test_cli_runner().invoke(args=["account", "show", faculty, "--json"])
    assert json.loads(shown.output)["valid_until"] is None


def test_29_february_plus_two_years_is_28_february():
    assert validity.add_years(date(2028, 2, 29), 2) == date(2030, 2, 28)


def test_the_account_page_shows_the_end_date_in_both_languages(app, client, login):
    username, password = enrolled(app, source="hr", role="postdoc", registration="P1")
    login(client, username, password)
    end = _ends_on(app, username).isoformat()
    for lang, label in (("el", "Ο λογαριασμός ισχύει έως"), ("en", "Account valid until")):
        client.set_cookie("kleidi_lang", lang, domain="localhost")
        body = client.get("/account").get_data(as_text=True)
        assert label in body and end in body


def _toggle(client, service, action):
    page = client.get("/account")
    return client.post("/account/services", data={
        "csrf_token": csrf_token(page), "service": service, "action": action})


def test_new_students_get_every_service_but_the_e_secretariat(app, client, login):
    username, password = enrolled(app)
    login(client, username, password)
    client.set_cookie("kleidi_lang", "en", domain="localhost")
    body = client.get("/account").get_data(as_text=True)
    buttons = dict(re.findall(r'data-service="(\w+)">(Turn o\w+)<', body))
    assert buttons["vpn"] == "Turn off" and buttons["esecretariat"] == "Turn on"
    assert buttons["email"] == "Turn off" and "alumni" not in buttons


def test_a_service_turned_off_leaves_the_next_assertion_and_userinfo(
        app, client, login, make_sp, csrf):
    username, password = enrolled(app)
    sp = make_sp("sp.example.org", release=["pairwise_id", "entitlement", "schac_expiry_date"])
    rp, secret = register(app)
    login(client, username, password)
    attributes = saml_sp.sso(client, sp, csrf).get_attributes()
    assert VPN in attributes[ENTITLEMENT] and EMAIL in attributes[ENTITLEMENT]
    assert EXPIRY not in attributes  # a student's end is not known yet

    assert _toggle(client, "vpn", "disable").status_code == 303
    assert _toggle(client, "esecretariat", "enable").status_code == 303
    attributes = saml_sp.sso(client, sp, csrf).get_attributes()
    assert VPN not in attributes[ENTITLEMENT] and ESECRETARIAT in attributes[ENTITLEMENT]
    tokens, _, _ = code_flow(client, login, app, username=username, password=password,
                             client_id=rp, secret=secret,
                             scope="openid eduperson schac")
    claims = client.get("/oidc/userinfo", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert VPN not in claims["eduperson_entitlement"]
    assert ESECRETARIAT in claims["eduperson_entitlement"]


def test_the_expiry_date_goes_only_where_it_is_approved(app, client, login, make_sp, csrf):
    username, password = enrolled(app, source="hr", role="postdoc", registration="P1")
    with app.app_context():
        from idp import db

        validity.refresh(accounts.find_by_username(username))
        db.session().commit()
    end = _ends_on(app, username)
    approved = make_sp("approved.example.org", release=["pairwise_id", "schac_expiry_date"])
    other = make_sp("other.example.org", release=["pairwise_id", "entitlement"])
    login(client, username, password)
    assert saml_sp.sso(client, approved, csrf).get_attributes()[EXPIRY] == [
        end.strftime("%Y%m%d") + "235959Z"]
    assert EXPIRY not in saml_sp.sso(client, other, csrf).get_attributes()
    rp, secret = register(app, scopes=["openid", "eduperson"])
    tokens, _, _ = code_flow(client, login, app, username=username, password=password,
                             client_id=rp, secret=secret, scope="openid eduperson schac")
    claims = client.get("/oidc/userinfo", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert "schac_expiry_date" not in claims and "eduperson_entitlement" in claims


def test_a_service_outside_ones_roles_is_refused_with_a_code(app, client, login):
    username, password = enrolled(app)
    login(client, username, password)
    response = _toggle(client, "alumni", "enable")
    assert response.status_code == 403 and "ACCT-003" in response.get_data(as_text=True)
