"""With the SAML IdP and an independent SP (python3-saml) that requires REFEDS MFA: the
assertion says MFA only after the second step, a password-only session of an enrolled person
steps up, and a person without a second factor gets NoAuthnContext."""

import base64

import pytest
from lxml import etree

saml_sp = pytest.importorskip("saml_sp", reason="the SAML IdP is not merged yet")

from mfa_helpers import code, enrol, second_step  # noqa: E402

from idp import mfa  # noqa: E402

pytest_plugins = ("saml_fixtures",)


def _requiring_mfa(sp):
    settings = sp.settings
    sp.settings = lambda idp=None: {**settings(idp), "security": {
        **settings(idp)["security"], "requestedAuthnContext": [mfa.REFEDS_MFA]}}
    return sp


def _start(client, sp):
    return client.get(saml_sp.path_and_query(sp.login_redirect("")))


def test_the_assertion_says_mfa_after_the_second_step(app, client, clock, csrf, login,
                                                     make_account, make_sp):
    username, password = make_account()
    secret, _codes = enrol(app, clock, username)
    sp = _requiring_mfa(make_sp("mfa.example.org"))
    start = _start(client, sp)
    iid = start.headers["Location"].split("i=")[1]
    after = login(client, username, password, iid)
    assert after.headers["Location"].endswith("/login/second-factor")
    page = saml_sp.follow(client, second_step(client, csrf, code(app, secret)), csrf)
    auth = sp.accept(page.get_data())
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_last_authn_contexts() == [mfa.REFEDS_MFA]


def test_a_password_session_steps_up_for_an_sp_requiring_mfa(app, client, clock, csrf, login,
                                                            make_account, make_sp):
    username, password = make_account()
    login(client, username, password)  # signed in before enrolling: a password-only session
    secret, _codes = enrol(app, clock, username)
    sp = _requiring_mfa(make_sp("mfa.example.org"))
    asked = saml_sp.follow(client, _start(client, sp))
    assert asked.request.path == "/login/second-factor"
    page = saml_sp.follow(client, second_step(client, csrf, code(app, secret)), csrf)
    auth = sp.accept(page.get_data())
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_last_authn_contexts() == [mfa.REFEDS_MFA]


def test_without_a_second_factor_the_sp_is_told_no_authn_context(client, csrf, login,
                                                                make_account, make_sp):
    username, password = make_account()
    sp = _requiring_mfa(make_sp("mfa.example.org"))
    start = _start(client, sp)
    after = login(client, username, password, start.headers["Location"].split("i=")[1])
    page = saml_sp.follow(client, after, csrf)
    fields = saml_sp.post_form(page.get_data())[1]
    response = etree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    codes = response.xpath("//*[local-name()='StatusCode']/@Value")
    assert "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext" in codes
