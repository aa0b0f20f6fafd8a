"""The registration forms of the relying-party portal in a real browser on a 360 px phone:
no sideways scrolling, no axe-core violation, in Greek and English; a refusal points at
what is wrong; the withdrawal's confirmation; screenshots in test-artifacts/."""

from __future__ import annotations

import pytest
from rp_support import metadata
from saml_support import make_keypair


def _sign_in(page, base, username, password):
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["el", "en"])
def test_registering_a_saml_sp_on_a_phone(phone, live_app, make_account, tmp_path, language):
    username, password = make_account(role="staff")
    page = phone(language)
    _sign_in(page, live_app, username, password)
    page.goto(f"{live_app}/rp")
    phone.check(page, "portal")
    page.click("a[href$='/rp/new/saml']")
    phone.check(page, "saml-form")
    _key, weak = make_keypair(tmp_path, "weak", bits=1024)
    bad = tmp_path / "weak.xml"
    bad.write_text(metadata("https://library.example.org/sp", "https://library.example.org/acs",
                            weak))
    page.set_input_files("#metadata_file", str(bad))
    page.check("#attribute-eppn")
    page.fill("#reason-eppn", "to match loans")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "RP-003" in page.content()
    assert ("Ένα κλειδί είναι πολύ αδύναμο" if language == "el" else "A key is too weak") in \
        page.content()
    phone.check(page, "weak-key-refused")
    _key, cert = make_keypair(tmp_path, "good")
    good = tmp_path / "good.xml"
    good.write_text(metadata("https://library.example.org/sp",
                             "https://library.example.org/acs", cert))
    page.set_input_files("#metadata_file", str(good))
    assert page.is_checked("#attribute-eppn")  # what was ticked stays ticked
    page.click("button[value=submit]")
    page.wait_for_load_state()
    state = page.inner_text("#rp-state")
    assert state == ("Υποβλήθηκε: αναμένει τους διαχειριστές" if language == "el"
                     else "Submitted: waiting for the operators")
    phone.check(page, "submitted")
    page.click("#rp-withdraw")
    page.wait_for_load_state()
    assert "https://library.example.org/sp" in page.inner_text("main")
    phone.check(page, "withdraw-confirm")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#rp-identifier") == "https://library.example.org/sp"
    phone.check(page, "withdrawn")


def test_registering_an_oidc_client_shows_its_secret_once(phone, live_app, make_account):
    username, password = make_account(role="faculty")
    page = phone("el")
    _sign_in(page, live_app, username, password)
    page.goto(f"{live_app}/rp/new/oidc")
    phone.check(page, "oidc-form")
    page.fill("#redirect_uris", "https://lab.example.org/callback")
    page.fill("#name_el", "Εργαστήριο")
    page.fill("#name_en", "Lab")
    page.fill("#technical_contact", "tech@lab.example.org")
    page.fill("#security_contact", "cert@lab.example.org")
    page.check("#attribute-email")
    page.fill("#reason-email", "για ειδοποιήσεις")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "εμφανίζεται μόνο αυτή τη φορά" in page.content()
    assert len(page.inner_text("#client-secret")) >= 40
    phone.check(page, "oidc-secret")
