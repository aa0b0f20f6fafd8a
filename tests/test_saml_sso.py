"""Web SSO against an independent SP (OneLogin's python3-saml), over both bindings."""

import base64
from datetime import UTC, datetime

import pytest
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from saml_sp import follow, path_and_query, post_form, set_policy, sso

pytest_plugins = ("saml_fixtures",)

PAIRWISE = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
SCOPED_AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.9"


@pytest.fixture
def person(make_account, login, client):
    username, password = make_account()
    login(client, username, password)
    return username


def test_existing_session_answers_at_once_over_redirect(make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    auth = sso(client, sp, csrf, relay_state="https://sp1.example.org/page?a=1&b=2")
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_nameid_format() == C.NAMEID_PERSISTENT
    attributes = auth.get_attributes()
    assert attributes[EPPN] == [f"{person}@example.edu"]
    assert attributes[DISPLAY_NAME]
    assert set(attributes[SCOPED_AFFILIATION]) == {"student@example.edu", "member@example.edu"}
    assert attributes[PAIRWISE] == [f"{auth.get_nameid()}@example.edu"]
    assert set(attributes) == {EPPN, DISPLAY_NAME, SCOPED_AFFILIATION, PAIRWISE}


def test_relay_state_is_echoed_verbatim(make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    relay = "ü &<>\"'%20+/?x=1"
    page = _page_after_redirect(client, sp, csrf, relay)
    assert post_form(page.get_data())[1]["RelayState"] == relay


def _page_after_redirect(client, sp, csrf, relay=""):
    return follow(client, client.get(path_and_query(sp.login_redirect(relay))), csrf)


def test_post_binding_without_session_goes_through_login(make_sp, client, csrf, make_account):
    sp = make_sp("sp2.example.org", sign_requests=True)
    username, password = make_account()
    url, fields = sp.login_post("state-42")
    response = client.post(path_and_query(url), data=fields)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_page = client.get(path_and_query(response.headers["Location"]))
    interaction = post_form(login_page.get_data())[1]["i"]
    response = client.post("/login", data={"csrf_token": csrf(login_page), "username": username,
                                           "password": password, "i": interaction})
    page = follow(client, response, csrf)
    auth = sp.accept(page.get_data())
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert post_form(page.get_data())[1]["RelayState"] == "state-42"


def test_pairwise_identifiers_differ_across_sps_and_stay_stable(make_sp, client, csrf, person):
    first, second = make_sp("one.example.org"), make_sp("two.example.org")
    ids = [sso(client, sp, csrf).get_nameid() for sp in (first, second, first, second)]
    assert ids[0] == ids[2] and ids[1] == ids[3]
    assert ids[0] != ids[1]
    assert all(len(value) == 52 for value in ids)


def test_transient_name_id_on_request(make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    _with_settings(sp, "sp", NameIDFormat=C.NAMEID_TRANSIENT)
    first, second = sso(client, sp, csrf), sso(client, sp, csrf)
    assert first.get_nameid_format() == C.NAMEID_TRANSIENT
    assert first.get_nameid() != second.get_nameid()


def test_nothing_beyond_policy_is_released(saml_app, make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org", release=["eppn"])
    assert set(sso(client, sp, csrf).get_attributes()) == {EPPN}
    set_policy(saml_app, sp.entity_id, attributes=[])
    assert sso(client, sp, csrf).get_attributes() == {}


def test_force_authn_asks_for_the_password_again(make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    response = client.get(path_and_query(sp.login_redirect(force_authn=True)))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_is_passive_without_session_returns_no_passive(make_sp, client):
    sp = make_sp("sp1.example.org")
    page = client.get(path_and_query(sp.login_redirect(is_passive=True)))
    auth = sp.accept(page.get_data())
    assert not auth.is_authenticated()
    assert second_level_status(page) == "urn:oasis:names:tc:SAML:2.0:status:NoPassive"


def test_declined_consent_returns_request_denied(make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    page = follow(client, client.get(path_and_query(sp.login_redirect())), csrf,
                  consent="decline")
    auth = sp.accept(page.get_data())
    assert not auth.is_authenticated()
    assert second_level_status(page) == "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"


def second_level_status(page) -> str:
    xml = base64.b64decode(post_form(page.get_data())[1]["SAMLResponse"])
    codes = etree.fromstring(xml).xpath("//*[local-name()='StatusCode']/@Value")
    return codes[1]


def test_consent_screen_shows_the_values_once(make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    first = client.get(path_and_query(sp.login_redirect()))
    consent = client.get(path_and_query(first.headers["Location"]))
    assert "/consent/" in consent.request.path
    assert f"{person}@example.edu" in consent.get_data(as_text=True)
    sso(client, sp, csrf)
    again = client.get(path_and_query(sp.login_redirect()))
    assert again.status_code == 200  # consent remembered: answered at once


def test_encrypted_assertion_for_an_sp_that_wants_it(make_sp, client, csrf, person):
    sp = make_sp("enc.example.org", want_encrypted=True)
    page = _page_after_redirect(client, sp, csrf)
    assert b"EncryptedAssertion" in base64.b64decode(
        post_form(page.get_data())[1]["SAMLResponse"])
    auth = sp.accept(page.get_data())
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_attributes()[EPPN] == [f"{person}@example.edu"]


def test_unsolicited_login_only_for_sps_that_allow_it(saml_app, make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    refused = client.get("/saml/sso/init", query_string={"sp": sp.entity_id})
    assert refused.status_code == 403 and "SAML-010" in refused.get_data(as_text=True)
    set_policy(saml_app, sp.entity_id, allow_unsolicited=True)
    page = follow(client, client.get("/saml/sso/init", query_string={
        "sp": sp.entity_id, "RelayState": "/welcome"}), csrf)
    auth = sp.accept(page.get_data(), unsolicited=True)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert post_form(page.get_data())[1]["RelayState"] == "/welcome"


def test_signed_response_when_policy_says_so(saml_app, make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    set_policy(saml_app, sp.entity_id, sign_response=True)
    _with_settings(sp, "security", wantMessagesSigned=True)
    auth = sso(client, sp, csrf)
    assert auth.get_errors() == [], auth.get_last_error_reason()


def test_force_authn_is_answered_after_the_password(make_sp, client, csrf, make_account, login):
    sp = make_sp("sp1.example.org")
    username, password = make_account()
    login(client, username, password)
    sso(client, sp, csrf)  # consent given, session established
    response = client.get(path_and_query(sp.login_redirect(force_authn=True)))
    login_page = client.get(path_and_query(response.headers["Location"]))
    interaction = post_form(login_page.get_data())[1]["i"]
    response = client.post("/login", data={"csrf_token": csrf(login_page), "username": username,
                                           "password": password, "i": interaction})
    auth = sp.accept(follow(client, response, csrf).get_data())
    assert auth.get_errors() == [], auth.get_last_error_reason()


def _with_settings(sp, section, **values):
    settings = sp.settings
    sp.settings = lambda idp=None: {**settings(idp), section: {**settings(idp)[section], **values}}


def test_refeds_mfa_without_a_second_factor_is_no_authn_context(make_sp, client, csrf, person):
    sp = make_sp("mfa.example.org")
    _with_settings(sp, "security", requestedAuthnContext=["https://refeds.org/profile/mfa"])
    page = _page_after_redirect(client, sp, csrf)
    assert second_level_status(page) == "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"


def test_unsupported_name_id_format_is_invalid_name_id_policy(make_sp, client, csrf, person):
    sp = make_sp("mail.example.org")
    _with_settings(sp, "sp", NameIDFormat=C.NAMEID_EMAIL_ADDRESS)
    page = _page_after_redirect(client, sp, csrf)
    assert second_level_status(page) == "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"


def test_refeds_mfa_after_a_second_factor(make_sp, client, csrf, person):
    sp = make_sp("mfa.example.org")
    _with_settings(sp, "security", requestedAuthnContext=["https://refeds.org/profile/mfa"])
    with client.session_transaction() as session:
        session["amr"] = ["pwd", "otp"]
    page = _page_after_redirect(client, sp, csrf)
    auth = sp.accept(page.get_data())
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_last_authn_contexts() == ["https://refeds.org/profile/mfa"]


def test_response_fields_the_profile_requires(make_sp, client, csrf, person):
    sp = make_sp("sp1.example.org")
    page = _page_after_redirect(client, sp, csrf)
    root = etree.fromstring(base64.b64decode(post_form(page.get_data())[1]["SAMLResponse"]))

    def one(path):
        found = root.xpath(path)
        assert len(found) == 1, path
        return found[0]

    assert one("/*/@Destination") == sp.acs
    assert one("/*/@InResponseTo") == sp.last_request_id
    confirmation = "//*[local-name()='SubjectConfirmationData']"
    assert one(f"{confirmation}/@Recipient") == sp.acs
    assert one(f"{confirmation}/@InResponseTo") == sp.last_request_id
    assert one("//*[local-name()='Audience']/text()") == sp.entity_id
    assert one("//*[local-name()='Conditions']/@NotOnOrAfter") > one("/*/@IssueInstant")
    assert one(f"{confirmation}/@NotOnOrAfter") > one("/*/@IssueInstant")
    assert one("//*[local-name()='Assertion']/*[local-name()='Signature']") is not None


def test_shared_identifiers_when_the_policy_releases_them(make_sp, client, csrf, person):
    sp = make_sp("shared.example.org", release=["eduperson_unique_id", "schgr_ac_person_id",
                                                "subject_id"])
    released = sso(client, sp, csrf).get_attributes()
    unique = released["urn:oid:1.3.6.1.4.1.5923.1.1.1.13"][0]
    academic_id = released["urn:oid:1.3.6.1.4.1.36215.1.2.3"][0]
    assert unique == f"{academic_id}@example.edu"
    assert released["urn:oasis:names:tc:SAML:attribute:subject-id"] == [unique]
    assert academic_id.isalnum() and len(academic_id) <= 64


def test_withdrawn_consent_is_asked_again(saml_app, make_sp, client, csrf, person):
    from idp import consent, db
    from idp.identity import accounts

    sp = make_sp("sp1.example.org")
    sso(client, sp, csrf)
    with saml_app.app_context():
        assert consent.withdraw(accounts.find_by_username(person), sp.entity_id)
        db.session().commit()
    again = client.get(path_and_query(sp.login_redirect()))
    assert "/consent/" in again.headers["Location"]


@pytest.mark.parametrize("host, options", [("sp1.example.org", {}),
                                           ("enc.example.org", {"want_encrypted": True})])
def test_responses_are_valid_against_the_saml_protocol_schema(make_sp, client, csrf, person,
                                                              host, options):
    from saml2.xml.schema import validate

    sp = make_sp(host, **options)
    page = _page_after_redirect(client, sp, csrf)
    validate(base64.b64decode(post_form(page.get_data())[1]["SAMLResponse"]).decode())


def test_authn_instant_is_the_login_time(make_sp, client, csrf, person):
    with client.session_transaction() as session:
        auth_time = session["auth_time"]
    page = _page_after_redirect(client, make_sp("sp1.example.org"), csrf)
    root = etree.fromstring(base64.b64decode(post_form(page.get_data())[1]["SAMLResponse"]))
    instant = root.xpath("//*[local-name()='AuthnStatement']/@AuthnInstant")[0]
    assert datetime.fromisoformat(instant.replace("Z", "+00:00")) == \
        datetime.fromtimestamp(auth_time, UTC)


def test_issued_assertions_are_not_kept_in_the_process(saml_app, make_sp, client, csrf, person):
    from idp.saml import server

    sp = make_sp("sp1.example.org")
    for _ in range(3):
        assert sso(client, sp, csrf).get_errors() == []
    with saml_app.app_context():
        storage = server.server().session_db
    assert storage.assertion == {} and storage.authn == {}
