"""SPs on their own defaults log in with Kleidi's defaults and no per-SP policy: the Response and
the Assertion are both signed; a policy may leave either signature out, never both."""

import base64

import pytest
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from saml_sp import follow, path_and_query, post_form, set_policy, sso

pytest_plugins = ("saml_fixtures",)

PSEUDONYMOUS = "https://refeds.org/category/pseudonymous"
PAIRWISE = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
DS = "{http://www.w3.org/2000/09/xmldsig#}Signature"
#: python3-saml demanding both signatures, as the SPs that refused unsigned Responses did.
BOTH_SIGNED = {"wantMessagesSigned": True, "wantAssertionsSigned": True,
               "signatureAlgorithm": C.RSA_SHA256, "digestAlgorithm": C.SHA256}


def category(uri: str) -> str:
    """EntityAttributes a federation adds to an SP's metadata (no policy at the IdP)."""
    return ('<md:Extensions><mdattr:EntityAttributes '
            'xmlns:mdattr="urn:oasis:names:tc:SAML:metadata:attribute">'
            '<saml:Attribute xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            'Name="http://macedir.org/entity-category" '
            'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
            f"<saml:AttributeValue>{uri}</saml:AttributeValue></saml:Attribute>"
            "</mdattr:EntityAttributes></md:Extensions>")


@pytest.fixture
def person(make_account, login, client):
    username, password = make_account()
    login(client, username, password)
    return username


def signatures(auth) -> dict[str, bool]:
    """Which elements of the Response python3-saml just processed carry a signature."""
    root = etree.fromstring(auth.get_last_response_xml().encode())
    assertion = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    return {"response": root.find(DS) is not None,
            "assertion": assertion is not None and assertion.find(DS) is not None}


def test_python3_saml_on_its_default_security_settings(make_sp, client, csrf, person):
    sp = make_sp("defaults.example.org", release=None, security={},
                 metadata_extra=category(PSEUDONYMOUS))
    auth = sso(client, sp, csrf)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_attributes()[PAIRWISE] == [f"{auth.get_nameid()}@example.edu"]
    assert signatures(auth) == {"response": True, "assertion": True}


@pytest.mark.parametrize("encrypted", [False, True])
def test_python3_saml_demanding_both_signatures_needs_no_policy(make_sp, client, csrf, person,
                                                                encrypted):
    security = {**BOTH_SIGNED, "wantAssertionsEncrypted": encrypted}
    sp = make_sp("strict.example.org", release=None, security=security, want_encrypted=encrypted,
                 metadata_extra=category(PSEUDONYMOUS))
    page = follow(client, client.get(path_and_query(sp.login_redirect())), csrf)
    auth = sp.accept(page.get_data())
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert signatures(auth)["response"]
    sent = base64.b64decode(post_form(page.get_data())[1]["SAMLResponse"])
    assert (b"EncryptedAssertion" in sent) is encrypted


def test_a_policy_may_leave_the_response_unsigned(saml_app, make_sp, client, csrf, person):
    sp = make_sp("legacy.example.org", release=None, security=BOTH_SIGNED,
                 metadata_extra=category(PSEUDONYMOUS))
    set_policy(saml_app, sp.entity_id, sign_response=False)
    refused = sso(client, sp, csrf)
    assert "The Message of the Response is not signed" in refused.get_last_error_reason()
    sp.security = {**BOTH_SIGNED, "wantMessagesSigned": False}
    auth = sso(client, sp, csrf)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert signatures(auth) == {"response": False, "assertion": True}


def test_a_policy_may_leave_the_assertion_unsigned(saml_app, make_sp, client, csrf, person):
    sp = make_sp("messages.example.org", release=None, security=BOTH_SIGNED,
                 metadata_extra=category(PSEUDONYMOUS))
    set_policy(saml_app, sp.entity_id, sign_assertions=False)
    refused = sso(client, sp, csrf)
    assert "The Assertion of the Response is not signed" in refused.get_last_error_reason()
    sp.security = {**BOTH_SIGNED, "wantAssertionsSigned": False}
    auth = sso(client, sp, csrf)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert signatures(auth) == {"response": True, "assertion": False}


def test_a_policy_cannot_leave_out_both_signatures(saml_app, make_sp):
    sp = make_sp("nothing.example.org", release=None)
    runner = saml_app.test_cli_runner()
    result = runner.invoke(args=["sp", "policy", sp.entity_id, "--no-sign-response",
                                 "--no-sign-assertions"])
    assert result.exit_code != 0 and "must stay signed" in result.output
    result = runner.invoke(args=["sp", "policy", sp.entity_id, "--no-sign-assertions"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["sp", "policy", sp.entity_id, "--no-sign-response"])
    assert result.exit_code != 0 and "must stay signed" in result.output


def test_an_sp_without_categories_still_gets_a_signed_nameid(make_sp, client, csrf, person):
    sp = make_sp("bare.example.org", release=None, security={**BOTH_SIGNED,
                                                             "wantAttributeStatement": False})
    auth = sso(client, sp, csrf)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_attributes() == {} and len(auth.get_nameid()) == 52
