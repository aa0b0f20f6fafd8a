"""End to end, over HTTP against ``kleidi serve``: a contractor applies, the account office
approves, verifies with both kinds of evidence and hands over, the applicant sets a password
from the emailed link, then signs in to a SAML SP (python3-saml) and an OIDC relying party,
which receive the ``affiliate`` affiliation and the staff-domain eduPersonPrincipalName."""

import json
import re
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import oidc_support
import pytest
import requests
from application_support import CONTRACTOR, EMAIL, SERIAL, handover_code, serial_and_secret
from saml_sp import IndependentSP, post_form, set_policy

PASSWORD = "ένας κήπος με λεμονιές"
EPPN = "nalexiou@example.edu"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def served(app, tmp_path, request):
    """The app served by ``kleidi serve``, reading SP metadata from a folder on every use."""
    folder = tmp_path / "metadata"
    folder.mkdir()
    app.config.update(METADATA_DIR=str(folder), SAML_METADATA_CHECK_SECONDS=0)
    return request.getfixturevalue("live_app"), folder


def _form_post(browser, page, data):
    """Post the page's first form with its CSRF token and ``data``."""
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    return browser.post(urljoin(page.url, action), allow_redirects=False, timeout=30,
                        data={"csrf_token": CSRF.search(page.text).group(1), **data},
                        headers={"Referer": page.url})


def _browse(browser, url, stop_at="\0"):
    """Follow the IdP like a browser (login, consent) until a redirect to ``stop_at`` (its
    URL) or a page posting elsewhere (the SAML answer: the page)."""
    response = browser.get(url, allow_redirects=False, timeout=30)
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(stop_at):
                return target
            response = browser.get(target, allow_redirects=False, timeout=30)
        elif 'name="decision"' in response.text:
            response = _form_post(browser, response, {"decision": "accept"})
        elif 'name="password"' in response.text:
            iid = parse_qs(urlsplit(response.url).query)["i"][0]
            response = _form_post(browser, response, {"username": "nalexiou",
                                                      "password": PASSWORD, "i": iid})
        else:
            return response
    raise AssertionError("the IdP never answered")


def _office(app, *args):
    result = app.test_cli_runner().invoke(args=["applications", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_contractor_from_application_to_saml_and_oidc(app, outbox, served, tmp_path):
    base, folder = served
    applicant = requests.Session()
    applicant.headers["Accept-Language"] = "en"
    form = applicant.get(f"{base}/apply/", timeout=30)
    submitted = _form_post(applicant, form, CONTRACTOR)
    assert submitted.status_code == 303
    page = applicant.get(urljoin(base, submitted.headers["Location"]), timeout=30)
    serial = SERIAL.search(page.text).group(0)
    assert serial_and_secret(outbox)[0] == serial

    assert _office(app, "approve", serial)["eppn"] == EPPN
    _office(app, "verify", serial, "--document", "id_card", "--number", "AK123456",
            "--evidence", "solemn_declaration", "--evidence", "role_certificate")
    _office(app, "hand-over", serial)
    link = next(line for line in outbox.to(EMAIL)[-1]["body"].splitlines()
                if "/apply/password?code=" in line)
    assert link == f"{base}/apply/password?code={handover_code(outbox)}"

    chooser = applicant.get(link, timeout=30)
    assert "nalexiou" in chooser.text
    done = _form_post(applicant, chooser, {"code": handover_code(outbox), "password": PASSWORD,
                                           "confirmation": PASSWORD})
    assert done.status_code == 200 and "Your account is ready" in done.text

    sp = IndependentSP("sp.example.org", requests.get(f"{base}/saml/metadata", timeout=30).text,
                       tmp_path)
    (folder / "sp.xml").write_text(sp.metadata())
    set_policy(app, sp.entity_id, attributes=["eppn", "affiliation", "scoped_affiliation"])
    browser = requests.Session()
    answer = _browse(browser, sp.login_redirect())
    for _ in range(50):  # the server's directory picks new metadata up within a moment
        if answer.status_code != 400:
            break
        time.sleep(0.2)
        answer = _browse(browser, sp.login_redirect())
    assert "SAMLResponse" in answer.text, re.search(r"<h1>(.*?)</h1>", answer.text, re.S)
    assert post_form(answer.text)[0] == sp.acs
    auth = sp.accept(answer.text)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    released = auth.get_attributes()
    assert released["urn:oid:1.3.6.1.4.1.5923.1.1.1.6"] == [EPPN]
    assert released["urn:oid:1.3.6.1.4.1.5923.1.1.1.1"] == ["affiliate"]

    client_id, secret = oidc_support.register(app)
    verifier, challenge = oidc_support.pkce()
    params = oidc_support.auth_params(client_id, challenge, scope="openid profile eduperson")
    back = _browse(browser, f"{base}/oidc/authorize?" + "&".join(
        f"{k}={requests.utils.quote(v)}" for k, v in params.items()), oidc_support.REDIRECT)
    code = parse_qs(urlsplit(back).query)["code"][0]
    token = requests.post(f"{base}/oidc/token", auth=(client_id, secret), timeout=30, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": oidc_support.REDIRECT}).json()
    claims = requests.get(f"{base}/oidc/userinfo", timeout=30, headers={
        "Authorization": f"Bearer {token['access_token']}"}).json()
    assert claims["eduperson_principal_name"] == EPPN
    assert claims["eduperson_affiliation"] == ["affiliate"]
    assert claims["eduperson_scoped_affiliation"] == ["affiliate@example.edu"]
