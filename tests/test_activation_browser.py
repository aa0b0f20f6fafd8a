"""A real browser (headless Chromium) activates an account in Greek, one screenshot a step.

Screenshots go to ``test-artifacts/activation/``. The test needs Debian's ``chromium``
package (``apt-get install -y chromium``) and the Playwright Python package; Playwright's
own browser downloads are never used. Without a browser the test is skipped, saying so.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from conftest import CHROMIUM
from test_activation_flow import amka_for

from idp.config import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "activation"
PASSWORD = "μια ήσυχη βόλτα στη θάλασσα"


@pytest.fixture
def screenshots():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    count = iter(range(1, 100))

    def shoot(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{next(count):02d}-{name}.png"), full_page=True)

    return shoot


def test_activation_in_greek_in_a_real_browser(sync_playwright, live_app, outbox, make_registry_record,
                                               screenshots, csp):
    make_registry_record(birth_date=date(2004, 3, 9))  # no AMKA: the AMKA step is shown
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = csp.watch(browser.new_context(locale="el-GR", java_script_enabled=False).new_page())
            walk(page, live_app, outbox, screenshots)
        finally:
            browser.close()
    assert len(list(ARTIFACTS.glob("*.png"))) == 10


def walk(page, base: str, outbox, shoot) -> None:
    page.goto(f"{base}/login")
    shoot(page, "login")
    page.get_by_role("link", name="Ενεργοποίηση λογαριασμού").click()
    page.get_by_label("Είμαι φοιτητής/φοιτήτρια").check()
    shoot(page, "role")
    page.get_by_role("button", name="Επόμενο").click()
    page.get_by_label("Αριθμός μητρώου").fill("00012345")
    page.get_by_label("Κινητό τηλέφωνο").fill("691 234 5678")
    shoot(page, "identify")
    page.get_by_role("button", name="Επόμενο").click()
    assert "σας στείλαμε PIN με SMS" in page.content()
    page.get_by_label("PIN").fill(outbox.last_pin("+306912345678"))
    shoot(page, "pin")
    page.get_by_role("button", name="Επόμενο").click()
    page.get_by_label("ΑΜΚΑ").fill(amka_for(date(2004, 3, 9)))
    shoot(page, "amka")
    page.get_by_role("button", name="Επόμενο").click()
    assert "Νικολάου" in page.content() and "151200012345" in page.content()
    page.get_by_label("Καταχώριση του κινητού μου").check()
    shoot(page, "review")
    page.get_by_role("button", name="Επόμενο").click()
    page.get_by_label("Νέος κωδικός πρόσβασης", exact=True).fill(PASSWORD)
    page.get_by_label("Νέος κωδικός πρόσβασης, ξανά").fill(PASSWORD)
    shoot(page, "password")
    page.get_by_role("button", name="Ολοκλήρωση ενεργοποίησης").click()
    assert page.locator(".username").inner_text() == "151200012345"
    assert "Η εγγραφή σας έχει ολοκληρωθεί" in page.content()
    shoot(page, "done")
    page.get_by_role("link", name="Σύνδεση").last.click()
    page.locator("input[name=username]").fill("151200012345")
    page.locator("input[name=password]").fill(PASSWORD)
    shoot(page, "login-with-new-account")
    page.locator("button[type=submit]").click()
    assert "151200012345@upnet.example.edu" in page.content()
    shoot(page, "signed-in")
