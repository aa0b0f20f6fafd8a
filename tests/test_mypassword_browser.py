"""A real browser (headless Chromium, JavaScript off) recovers a forgotten password in Greek,
one screenshot a step, and a session in another browser ends with the reset; and it sets up
an authenticator app from the account page (QR code made by the server) and logs in with it.

Screenshots go to ``test-artifacts/mypassword/`` (ignored by git). The test needs Debian's
``chromium`` package and the Playwright Python package; Playwright's own browser downloads
are never used. Without a browser the test is skipped, saying so.
"""

from __future__ import annotations

import shutil

import pyotp
import pytest
from conftest import CHROMIUM

from idp.config import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "mypassword"
OLD, NEW = "το παλιό μου συνθηματικό", "ένα καινούργιο καλοκαίρι στην Πάτρα"


@pytest.fixture
def shoot(request):
    folder = ARTIFACTS / request.node.name.removeprefix("test_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = iter(range(1, 100))

    def screenshot(page, name: str) -> None:
        page.screenshot(path=str(folder / f"{next(count):02d}-{name}.png"), full_page=True)

    screenshot.folder = folder
    return screenshot


def _pages(browser, csp):
    return csp.watch(browser.new_context(locale="el-GR", java_script_enabled=False).new_page())


def test_recovery_in_greek_in_a_real_browser(sync_playwright, live_app, outbox, make_account, shoot,
                                             csp):
    username, _ = make_account("151200012345", password=OLD, mobile="+306912345678",
                               external_email="eleni@example.org")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            other = _pages(browser, csp)
            log_in(other, live_app, username, OLD)
            page = _pages(browser, csp)
            recover(page, live_app, outbox, username, shoot)
            other.goto(f"{live_app}/")
            assert "Σύνδεση" in other.locator("h1").inner_text()  # that session has ended
            shoot(other, "other-browser-signed-out")
        finally:
            browser.close()
    assert len(list(shoot.folder.glob("*.png"))) == 8
    assert [m["to"] for m in outbox.messages] == ["+306912345678", "eleni@example.org"]


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    page.get_by_text(f"{username}@").wait_for()


def recover(page, base: str, outbox, username: str, shoot) -> None:
    page.goto(f"{base}/login")
    shoot(page, "login")
    page.get_by_role("link", name="Ξεχάσατε τον κωδικό σας;").click()
    page.get_by_label("Όνομα χρήστη").fill(username)
    page.get_by_label("Κινητό τηλέφωνο").fill("691 234 5678")
    shoot(page, "identify")
    page.get_by_role("button", name="Αποστολή PIN").click()
    assert "στείλαμε PIN με SMS" in page.locator(".notice").inner_text()
    page.get_by_label("PIN").fill(outbox.last_pin("+306912345678"))
    shoot(page, "pin")
    page.get_by_role("button", name="Επόμενο").click()
    page.get_by_label("Νέος κωδικός πρόσβασης", exact=True).fill(NEW)
    page.get_by_label("Νέος κωδικός πρόσβασης ξανά").fill(NEW)
    shoot(page, "password")
    page.get_by_role("button", name="Ορισμός νέου κωδικού").click()
    assert "Ο κωδικός πρόσβασής σας άλλαξε" in page.locator("h1").inner_text()
    shoot(page, "done")
    page.locator("main").get_by_role("link", name="Σύνδεση").click()
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(NEW)
    shoot(page, "login-with-new-password")
    page.locator("button[type=submit]").click()
    page.get_by_text(f"{username}@").wait_for()
    shoot(page, "signed-in")


def test_second_factor_in_greek_in_a_real_browser(sync_playwright, app, live_app, clock, make_account, shoot,
                                                  csp):
    username, _ = make_account("151200012345", password=OLD)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = _pages(browser, csp)
            log_in(page, live_app, username, OLD)
            secret = enrol(page, live_app, app, shoot)
            clock.advance(30)
            again = _pages(browser, csp)
            again.goto(f"{live_app}/login")
            again.locator("input[name=username]").fill(username)
            again.locator("input[name=password]").fill(OLD)
            again.locator("button[type=submit]").click()
            assert "Δεύτερο βήμα" in again.locator("h1").inner_text()
            again.get_by_label("Κωδικός").fill(_now(app, secret))
            shoot(again, "second-step")
            again.get_by_role("button", name="Συνέχεια").click()
            again.get_by_text(f"{username}@").wait_for()
            shoot(again, "signed-in")
        finally:
            browser.close()
    assert len(list(shoot.folder.glob("*.png"))) == 5


def _now(app, secret: str) -> str:
    import time

    return pyotp.TOTP(secret).at(time.time() + app.config.get("CLOCK_OFFSET_SECONDS", 0))


def enrol(page, base: str, app, shoot) -> str:
    page.goto(f"{base}/account")
    shoot(page, "account")
    page.get_by_role("link", name="Διαχείριση δεύτερου παράγοντα").click()
    page.get_by_role("button", name="Ρύθμιση εφαρμογής επαλήθευσης").click()
    qr = page.get_by_role("img", name="Κωδικός QR για την εφαρμογή επαλήθευσης")
    assert qr.evaluate("img => img.naturalWidth") > 0  # the server-made SVG renders
    secret = page.locator(".secret-key").inner_text().replace(" ", "")
    page.get_by_label("Κωδικός από την εφαρμογή επαλήθευσης").fill(_now(app, secret))
    shoot(page, "setup")
    page.get_by_role("button", name="Επιβεβαίωση").click()
    assert page.locator(".recovery-codes li").count() == 10
    shoot(page, "recovery-codes")
    return secret
