"""The content security policy in a real browser (headless Chromium, JavaScript on): the SAML
POST-binding page still submits itself, the logout page's frames still reach the services,
and no page reports a violation. The services are independent python3-saml SPs, served over
TLS on a loopback port that the browser reaches under their own names.

The test needs Debian's ``chromium`` package and the Playwright Python package; Playwright's
own browser downloads are never used. Without a browser the test is skipped, saying so.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from conftest import CHROMIUM
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from saml_fixtures import RELEASE
from saml_sp import IndependentSP, set_policy
from saml_support import make_keypair
from werkzeug.serving import make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response


@pytest.fixture
def metadata_folder(app, tmp_path):
    """Where the SPs' metadata goes, set before the live server starts with these settings."""
    folder = tmp_path / "metadata"
    folder.mkdir()
    app.config.update(METADATA_DIR=str(folder), SAML_METADATA_CHECK_SECONDS=0,
                      SAML_LOGOUT_WAIT_SECONDS=2)
    return folder


@pytest.fixture(params=[C.BINDING_HTTP_REDIRECT, C.BINDING_HTTP_POST], ids=["redirect", "post"])
def services(app, metadata_folder, live_app, tmp_path, request):
    """Two SPs registered with the live IdP (its metadata read over HTTP); the second takes
    logout messages by the binding of the test's parameter (inside the logout page's frame,
    a POST-binding form must still submit itself)."""
    folder = metadata_folder
    metadata = requests.get(f"{live_app}/saml/metadata", timeout=10).text
    found = []
    for host, slo_binding in (("one.example.org", C.BINDING_HTTP_REDIRECT),
                              ("two.example.org", request.param)):
        sp = IndependentSP(host, metadata, tmp_path, slo_binding=slo_binding)
        (folder / f"{host}.xml").write_text(sp.metadata())
        set_policy(app, sp.entity_id, attributes=RELEASE)
        found.append(sp)
    for sp in found:
        _wait_until_known(sp)
    return found


def _wait_until_known(sp, seconds: float = 30) -> None:
    """The served IdP reads new metadata in the background: wait until it takes this SP's
    requests (a login redirect rather than SAML-001, unknown SP)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = requests.get(sp.login_redirect(), allow_redirects=False, timeout=10)
        if answer.status_code == 302:
            return
        time.sleep(0.1)
    raise AssertionError(f"the IdP never read the metadata of {sp.host}")


class ServiceSide:
    """The SPs' ACS and SLO endpoints (a WSGI app), and what they saw."""

    def __init__(self, sps):
        self.sps = {sp.host: sp for sp in sps}
        self.signed_in: dict[str, OneLogin_Saml2_Auth] = {}
        self.logout_errors: dict[str, list[str]] = {}
        self.failures: list[str] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.answer(request, self.sps[request.host])
        except Exception as error:  # noqa: BLE001 -- reported by the test, not lost in a thread
            self.failures.append(f"{request.url}: {error!r}")
            response = Response("failed", status=500)
        return response(environ, start_response)

    def answer(self, request, sp) -> Response:
        if request.path == "/acs":
            auth = OneLogin_Saml2_Auth(sp._request(request.form.to_dict()), sp.settings())
            auth.process_response(request_id=sp.last_request_id)
            assert auth.get_errors() == [], auth.get_last_error_reason()
            self.signed_in[sp.host] = auth
            return Response(f"<h1>signed in at {sp.host}</h1>", mimetype="text/html")
        if request.path != "/sls":
            return Response("not here", status=404)  # the browser's favicon.ico
        if request.method == "POST":
            errors, answer = sp.handle_posted_logout_request(request.form["SAMLRequest"])
        else:
            errors, answer = sp.handle_logout_message(request.url)
        self.logout_errors[sp.host] = errors
        return redirect(answer) if answer else Response("<h1>logged out</h1>", mimetype="text/html")


@pytest.fixture
def service_side(services, tmp_path):
    """The SPs served over TLS on a loopback port; yields (side, port)."""
    side = ServiceSide(services)
    key, cert = make_keypair(tmp_path, "tls")
    server = make_server("127.0.0.1", 0, side, threaded=True, ssl_context=(str(cert), str(key)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield side, server.port
    server.shutdown()


def test_saml_pages_work_under_the_policy(sync_playwright, metadata_folder, live_app,
                                          make_account, services, service_side, csp):
    username, password = make_account()
    one, two = services
    side, port = service_side
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", f"--host-resolver-rules=MAP *.example.org 127.0.0.1:{port}"])
        try:
            context = browser.new_context(locale="en-GB", ignore_https_errors=True)
            page = csp.watch(context.new_page())
            sign_in(page, one, username, password)
            page.goto(two.login_redirect())         # single sign-on: no login page this time
            consent_and_post(page, two)
            logout(page, one, side)
            assert_policy_is_enforced(page, live_app, csp)
        finally:
            browser.close()
    assert side.failures == []
    assert set(side.signed_in) == {"one.example.org", "two.example.org"}
    assert side.logout_errors == {"two.example.org": [], "one.example.org": []}


def sign_in(page, sp, username: str, password: str) -> None:
    page.goto(sp.login_redirect())
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    consent_and_post(page, sp)


def consent_and_post(page, sp) -> None:
    """The consent page, then the POST-binding page, which submits itself by its script."""
    page.get_by_role("button", name="Accept and continue").click()
    page.wait_for_url(sp.acs)
    assert f"signed in at {sp.host}" in page.content()


def logout(page, sp, side: ServiceSide) -> None:
    """Logout started at one SP: the IdP's page frames the other, then answers the first."""
    page.goto(sp.logout_redirect(side.signed_in[sp.host].get_nameid(), None))
    frame = page.frame_locator("iframe")
    frame.get_by_text("Logged out").wait_for()   # the other SP answered inside its frame
    page.wait_for_url("**/saml/slo/finish/**")   # the page's own refresh, after the wait
    page.locator("a.button").click()             # the LogoutResponse to the SP that asked
    page.wait_for_url("https://one.example.org/sls**")


def assert_policy_is_enforced(page, base: str, csp) -> None:
    """A page that breaks the policy is reported: the watch is not blind."""
    assert csp.violations == []
    page.goto(f"{base}/login")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_timeout(300)
    assert page.evaluate("getComputedStyle(document.body).color") != "rgb(255, 0, 0)"
    assert len(csp.violations) == 1 and "inline style" in csp.violations[0]
    csp.violations.clear()
