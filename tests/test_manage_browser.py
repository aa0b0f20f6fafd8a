"""The console on a 360 px phone, in Greek and in English: an operator signs in with password
and authenticator code, opens each page of the console and disables an account; a faculty
member requests a non-personal account. At every state: nothing scrolls sideways, axe-core
finds no violation, and a screenshot goes to ``test-artifacts/<test>/``.

Needs Debian's chromium and the Playwright package (see ``browser.py``).
"""

from __future__ import annotations

import time

import pyotp
import pytest

WORDS = {
    "el": {"console": "Κονσόλα διαχειριστών", "search": "Αναζήτηση", "disable": "Απενεργοποίηση λογαριασμού",
           "enable": "Ενεργοποίηση λογαριασμού", "enrol": "Ορίστε πρώτα δεύτερο παράγοντα",
           "request": "Υποβολή αίτησης",
           "withdraw": "Απόσυρση της καταχώρισης"},
    "en": {"console": "Operators' console", "search": "Search", "disable": "Disable the account",
           "enable": "Enable the account", "enrol": "Set up a second factor first",
           "request": "Send the request",
           "withdraw": "Withdraw the registration"},
}


def _sign_in(page, base: str, username: str, password: str, secret: str | None) -> None:
    page.goto(f"{base}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("main button[type=submit]").first.click()
    if secret:
        # the next time step: the server's clock is the real one, and the step of the
        # enrolment's code is used already
        page.locator("input[name=code]").fill(pyotp.TOTP(secret).at(time.time() + 30))
        page.locator("main button[type=submit]").first.click()
    page.get_by_text(f"{username}@").wait_for()


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_console_on_a_phone(phone, live_app, make_operator, make_account, language):
    words = WORDS[language]
    make_account("mpapad", registration="00054321", mobile="+306912345678",
                 external_email="maria.p@example.org")
    admin = make_operator("admin")
    page = phone(language)
    _sign_in(page, live_app, admin.username, admin.password, admin.secret)
    page.goto(f"{live_app}/manage")
    assert words["console"] in page.locator("h1").inner_text()
    phone.check(page, "index")
    page.goto(f"{live_app}/manage/people")
    phone.check(page, "search")
    page.locator("input[name=q]").fill("00054321")
    page.locator("main form[role=search] button").click()
    phone.check(page, "results")
    page.locator("main a[href='/manage/people/mpapad']").click()
    phone.check(page, "person")
    page.locator("input#reason").first.fill("ticket 4711")
    page.get_by_role("button", name=words["disable"]).click()
    assert page.get_by_role("button", name=words["enable"]).is_visible()
    phone.check(page, "person-disabled")
    for path in ("/manage/operators", "/manage/nonpersonal"):
        page.goto(f"{live_app}{path}")
        phone.check(page, path.rsplit("/", 1)[-1])


@pytest.mark.parametrize("language", ["el", "en"])
def test_enrol_first_and_the_non_personal_request_on_a_phone(phone, live_app, make_operator,
                                                            make_account, language):
    words = WORDS[language]
    helpdesk = make_operator("helpdesk", second_factor=False)
    page = phone(language)
    _sign_in(page, live_app, helpdesk.username, helpdesk.password, None)
    page.goto(f"{live_app}/manage")
    assert words["enrol"] in page.locator("h1").inner_text()
    phone.check(page, "enrol-first")
    faculty = make_account("kprof", role="faculty")
    other = phone(language)
    _sign_in(other, live_app, *faculty, None)
    other.goto(f"{live_app}/account/nonpersonal")
    phone.check(other, "nonpersonal-form")
    other.locator("input[name=username]").fill("Ab")
    other.locator("textarea[name=purpose]").fill("the physics lab")
    other.get_by_role("button", name=words["request"]).click()
    phone.check(other, "nonpersonal-refused")
    other.locator("input[name=username]").fill("physics-lab")
    other.get_by_role("button", name=words["request"]).click()
    phone.check(other, "nonpersonal-sent")


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_federation_review_and_a_withdrawal_on_a_phone(phone, live_app, app, make_operator,
                                                          make_account, language):
    """A submitted registration's review page (approve, reject and withdraw, each with its
    own reason field), and the withdrawal done by the label of its own field."""
    from rp_support import metadata

    from idp import db
    from idp.identity import accounts
    from idp.relying_parties import registration

    owner, _password = make_account("libadmin", role="staff")
    with app.app_context():
        account = accounts.find_by_username(owner)
        rp, _secret = registration.create(
            account, "saml", {"metadata": metadata("https://library.example.org/shibboleth",
                                                   "https://library.example.org/acs")},
            {"eppn": "to match loans"}, {}, {})
        registration.submit(rp, account)
        db.session().commit()
        rp_id = rp.id
    federation = make_operator("federation")
    page = phone(language)
    _sign_in(page, live_app, federation.username, federation.password, federation.secret)
    page.goto(f"{live_app}/manage/relying-parties")
    phone.check(page, "queue")
    page.goto(f"{live_app}/manage/relying-parties/{rp_id}")
    phone.check(page, "review")
    withdrawal = page.locator(f"form[action='/manage/relying-parties/{rp_id}/withdraw']")
    label = withdrawal.locator("label").inner_text()
    page.get_by_label(label, exact=True).fill("registered twice")
    page.get_by_role("button", name=WORDS[language]["withdraw"]).click()
    page.wait_for_url(f"{live_app}/manage/relying-parties")
    phone.check(page, "withdrawn")
    assert f"/manage/relying-parties/{rp_id}" not in page.content()


@pytest.mark.parametrize("language", ["el", "en"])
def test_removing_a_service_in_force_on_a_phone(phone, live_app, app, make_operator,
                                                make_account, language):
    """The list of what is served, the confirmation of a removal (refused without a reason,
    then done) and the page that says it happened."""
    from rp_support import metadata

    from idp import db
    from idp.identity import accounts
    from idp.relying_parties import registration, review

    entity = "https://library.example.org/shibboleth"
    owner, _password = make_account("libadmin", role="staff")
    with app.app_context():
        account = accounts.find_by_username(owner)
        rp, _secret = registration.create(
            account, "saml", {"metadata": metadata(entity, "https://library.example.org/acs")},
            {"eppn": "to match loans"}, {}, {})
        registration.submit(rp, account)
        review.approve(rp, ["eppn"], actor="test")
        db.session().commit()
        rp_id = rp.id
    words = {"el": ("Αφαίρεση…", "Αφαίρεση της υπηρεσίας", "Η υπηρεσία αφαιρέθηκε"),
             "en": ("Remove…", "Remove the service", "The service was removed")}[language]
    federation = make_operator("federation")
    page = phone(language)
    _sign_in(page, live_app, federation.username, federation.password, federation.secret)
    page.goto(f"{live_app}/manage/relying-parties")
    assert entity in page.locator("#served").inner_text()
    phone.check(page, "served")
    page.goto(f"{live_app}/manage/relying-parties/{rp_id}")
    page.get_by_role("link", name=words[0], exact=True).click()
    phone.check(page, "remove-confirm")
    page.get_by_role("button", name=words[1]).click()
    assert page.locator("#remove-reason[aria-invalid=true]").is_visible()
    phone.check(page, "remove-refused")
    label = page.locator("label[for=remove-reason]").inner_text()
    page.get_by_label(label, exact=True).fill("the library moved to another identity provider")
    page.get_by_role("button", name=words[1]).click()
    assert words[2] in page.locator("h1").inner_text()
    assert page.locator("#rp-identifier").inner_text() == entity
    phone.check(page, "removed")
    page.goto(f"{live_app}/manage/relying-parties")
    assert entity not in page.locator("#served").inner_text()
