"""The account page's lifecycle sections in a real browser (headless Chromium, JavaScript
off) on a 360 px phone: they fit without scrolling sideways, and a service is turned off
with its button. Screenshots go to ``test-artifacts/lifecycle/`` (ignored by git)."""

from __future__ import annotations

from conftest import CHROMIUM
from lifecycle_support import enrolled

from idp.config import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "lifecycle"


def test_the_services_fit_a_phone_and_turn_off(sync_playwright, live_app, app):
    username, password = enrolled(app, source="hr", role="postdoc", registration="P1",
                                  mobile="+306912345670")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(locale="el-GR", java_script_enabled=False,
                                       viewport={"width": 360, "height": 740}).new_page()
            page.goto(f"{live_app}/login")
            page.fill("#username", username)
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{live_app}/account")
            page.screenshot(path=str(ARTIFACTS / "account-360.png"), full_page=True)
            sections = page.locator("#account-validity, #account-services, #account-data")
            assert sections.count() == 3
            for index in range(sections.count()):
                box = sections.nth(index).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= 360
            for table in page.locator("#account-services + table").all():
                assert table.bounding_box()["width"] <= 360
            vpn = page.locator("button[data-service=vpn]")
            assert vpn.inner_text().split() == ["Απενεργοποίηση", ":", "VPN"]
            vpn.click()
            page.wait_for_load_state()
            assert page.locator("button[data-service=vpn]").inner_text().split()[0] == (
                "Ενεργοποίηση")
            page.screenshot(path=str(ARTIFACTS / "vpn-off-360.png"), full_page=True)
        finally:
            browser.close()
