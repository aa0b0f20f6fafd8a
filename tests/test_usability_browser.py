"""A newcomer on a 360 px phone, in Greek and in English, gets through every flow, making the
mistakes people make. At every state of every page: nothing scrolls sideways, axe-core finds
no violation, and a screenshot is written to ``test-artifacts/<test>/``.

Needs Debian's chromium and the Playwright package (see ``browser.py``); axe-core is
installed from the npm registry on first use.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pytest
from browser import assert_no_horizontal_overflow
from mfa_helpers import account
from oidc_support import auth_params, register
from test_activation_flow import amka_for

from idp import consent, db

PASSWORD = {"el": "μια ήσυχη βόλτα στη θάλασσα", "en": "a quiet walk along the harbour"}
USERNAME = "151200012345"


def submit(page) -> None:
    page.locator("main button[type=submit]").first.click()


@pytest.mark.parametrize("language", ["el", "en"])
def test_activation_step_by_step_on_a_phone(phone, live_app, outbox, make_registry_record,
                                            language):
    make_registry_record(birth_date=date(2004, 3, 9))  # no AMKA in the registry
    page = phone(language)
    page.goto(f"{live_app}/login")
    phone.check(page, "login")
    page.locator("main a[href='/activate/']").click()
    phone.check(page, "role")
    submit(page)  # forgot to choose a role
    assert page.locator("[data-error-summary]").evaluate("e => e === document.activeElement")
    phone.check(page, "role-error")
    page.locator("input[name=role]").first.check()
    submit(page)
    phone.check(page, "identify")
    page.fill("input[name=registration_id]", "00012345")
    page.fill("input[name=mobile]", "691 234 5678")
    page.fill("input[name=email]", "eleni.n@example.org")  # both: one of the two is wanted
    submit(page)
    assert page.locator("input[name=mobile][aria-invalid=true]").count() == 1
    phone.check(page, "identify-error")
    page.fill("input[name=email]", "")
    submit(page)
    phone.check(page, "pin")
    page.fill("input[name=pin]", "12345")  # one digit short: a format message, no try lost
    submit(page)
    phone.check(page, "pin-format")
    pin = outbox.last_pin("+306912345678")
    page.fill("input[name=pin]", f"{pin[:3]} {pin[3:]}")
    submit(page)
    phone.check(page, "amka")
    page.fill("input[name=amka]", amka_for(date(2004, 3, 9)))
    submit(page)
    phone.check(page, "review")
    page.go_back()  # the browser's Back button: the AMKA page again, not an error
    assert page.locator("input[name=amka]").count() == 1
    phone.check(page, "back-to-amka")
    page.fill("input[name=amka]", amka_for(date(2004, 3, 9)))
    submit(page)
    assert page.locator("input[name=consent_mobile]").is_checked()  # the proved contact
    submit(page)
    page.fill("input[name=password]", "Welcome2024!")
    # the hint while typing (the page's script writes it after the input event: wait for it)
    page.wait_for_function("document.querySelector('#password-strength').innerText.trim() !== ''",
                           timeout=10_000)
    page.fill("input[name=confirmation]", "Welcome2024!")
    phone.check(page, "password")
    submit(page)
    assert page.locator("#password-error-1").count() == 1
    phone.check(page, "password-refused")
    page.fill("input[name=password]", PASSWORD[language])
    page.fill("input[name=confirmation]", PASSWORD[language])
    submit(page)
    assert page.locator(".username").inner_text() == USERNAME
    phone.check(page, "done")
    page.locator("main a.button").click()
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD[language])
    submit(page)
    phone.check(page, "signed-in")
    page.goto(f"{live_app}/account")
    assert "+306912345678" in page.content()
    phone.check(page, "account")


@pytest.mark.parametrize("language", ["el", "en"])
def test_account_pages_recovery_consent_and_errors_on_a_phone(phone, app, live_app, outbox,
                                                              make_account, language):
    username, password = make_account(USERNAME, password=PASSWORD[language],
                                      mobile="+306912345678",
                                      external_email="maria.papadopoulou.long.address@example.org")
    named, _ = register(app, name="Δηλώσεις Συγγραμμάτων και Σημειώσεων")
    nameless, _ = register(app, redirect_uris=("https://a-very-long-host-name.example.org/cb",))
    with app.test_request_context():
        for party in (named, nameless):
            consent.grant(account(username), party, ["display_name", "eppn", "affiliation",
                                                     "scoped_affiliation", "email"])
        db.session().commit()
    page = phone(language)
    page.goto(f"{live_app}/oidc/authorize?" + urlencode(auth_params(
        nameless, redirect_uri="https://a-very-long-host-name.example.org/cb")))
    phone.check(page, "login-for-a-service")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "not my password")
    submit(page)
    phone.check(page, "login-wrong-password")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    submit(page)
    page.goto(f"{live_app}/oidc/authorize?" + urlencode(auth_params(
        named, scope="openid profile email eduperson", prompt="consent")))
    assert page.locator("button[name=decision]").count() == 2
    phone.check(page, "consent")
    for path, name in (("/account", "account"), ("/account/password", "password-change"),
                       ("/account/contacts", "contacts"), ("/account/second-factor",
                                                           "second-factor")):
        page.goto(live_app + path)
        phone.check(page, name)
    page.goto(f"{live_app}/account/password")
    page.fill("input[name=current]", password)
    page.fill("input[name=new]", "KleidiUniversity2025!")
    page.fill("input[name=repeat]", "KleidiUniversity2025!")
    submit(page)
    phone.check(page, "password-change-refused")
    page.goto(f"{live_app}/account/second-factor")
    submit(page)
    assert page.locator("a.otpauth").get_attribute("href").startswith("otpauth://totp/")
    phone.check(page, "second-factor-setup")
    page.goto(f"{live_app}/activate/unknown-procedure/identify")
    phone.check(page, "error-page")
    recovery = phone(language)
    recovery.goto(f"{live_app}/recovery")
    phone.check(recovery, "recovery")
    recovery.fill("input[name=username]", username)
    recovery.fill("input[name=mobile]", "6912345678")
    submit(recovery)
    phone.check(recovery, "recovery-pin")
    recovery.fill("input[name=pin]", outbox.last_pin("+306912345678"))
    submit(recovery)
    phone.check(recovery, "recovery-password")
    new = PASSWORD[language] + " again"
    recovery.fill("input[name=password]", new)
    recovery.fill("input[name=confirmation]", new)
    submit(recovery)
    phone.check(recovery, "recovery-done")


def test_the_skip_link_appears_on_focus(phone, live_app):
    page = phone("el")
    page.goto(f"{live_app}/login")
    link = page.locator("a.skip-link")
    assert link.bounding_box()["y"] < 0  # off screen until needed
    page.keyboard.press("Tab")
    assert link.evaluate("e => e === document.activeElement")
    assert link.bounding_box()["y"] >= 0
    phone.check(page, "skip-link")


def test_nothing_scrolls_sideways_on_the_narrowest_phones(phone, live_app, make_account):
    username, password = make_account(USERNAME, password=PASSWORD["el"],
                                      external_email="maria.papadopoulou.long.address@example.org")
    for width in (320, 375):
        page = phone("el")
        page.set_viewport_size({"width": width, "height": 640})
        page.goto(f"{live_app}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        submit(page)
        for path in ("/login", "/activate/", "/recovery", "/account", "/account/contacts",
                     "/account/password", "/account/second-factor", "/activate/x/identify"):
            page.goto(live_app + path)
            assert_no_horizontal_overflow(page)
        phone.shoot(page, f"error-page-{width}")
