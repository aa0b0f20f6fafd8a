"""Every refusal a person meets ends on the one error page: its code, and what to send to whom.

MISSION.md "Errors": the page names the support address and what to include — registration
number, full name, a description of the problem, the error code and contact details — in the
person's language. One refusal of each flow is checked, in Greek and in English.
"""

import re

import pytest

SUPPORT_BLOCK = {
    "el": ["Αν χρειάζεστε βοήθεια", "αριθμό μητρώου", "ονοματεπώνυμό σας",
           "περιγραφή του προβλήματος", "τον κωδικό λάθους", "στοιχεία επικοινωνίας"],
    "en": ["If you need help", "registration number", "your full name",
           "a description of the problem", "the error code", "your contact details"],
}


def assert_error_page(response, code: str, lang: str, support: str = "helpdesk@example.edu"):
    body = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in body
    assert re.search(rf'<span class="code">{code}</span>', body), f"{code} not shown"
    # the page's own content after the message: the shared footer also names the helpdesk
    help_block = body.split('role="alert"', 1)[1].split("</main>", 1)[0]
    assert support in help_block, "the support address is not on the page"
    for text in SUPPORT_BLOCK[lang]:
        assert text in help_block, f"{lang}: {text!r} missing from the support block"
    assert re.search(rf"(κωδικό λάθους|error code) {code}", help_block), "the code is not in the list"


def _in(client, lang: str):
    client.set_cookie("kleidi_lang", lang, domain="localhost")
    return client


@pytest.mark.parametrize("lang", ["el", "en"])
def test_activation_refusal_names_the_support_block(client, lang):
    response = _in(client, lang).get("/activate/no-such-flow/identify")
    assert response.status_code == 404
    assert_error_page(response, "FLOW-001", lang)


@pytest.mark.parametrize("lang", ["el", "en"])
def test_recovery_refusal_names_the_support_block(client, lang):
    response = _in(client, lang).get("/recovery/no-such-flow/password")
    assert response.status_code == 404
    assert_error_page(response, "FLOW-001", lang)


@pytest.mark.parametrize("lang", ["el", "en"])
def test_login_refusal_names_the_support_block(client, make_account, login, lang):
    username, password = make_account(status="disabled")
    response = login(_in(client, lang), username, password)
    assert response.status_code == 403
    assert_error_page(response, "LOGIN-003", lang)


@pytest.mark.parametrize("lang", ["el", "en"])
def test_saml_refusal_names_the_support_block(client, lang):
    response = _in(client, lang).get("/saml/sso/redirect", query_string={"SAMLRequest": "%%%"})
    assert response.status_code == 400
    assert_error_page(response, "SAML-002", lang)


@pytest.mark.parametrize("lang", ["el", "en"])
def test_oidc_refusal_names_the_support_block(client, lang):
    response = _in(client, lang).get("/oidc/authorize", query_string={
        "client_id": "no-such-client", "redirect_uri": "https://rp.example.org/cb",
        "response_type": "code", "scope": "openid"})
    assert response.status_code == 400
    assert_error_page(response, "OIDC-001", lang)
