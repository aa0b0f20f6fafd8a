"""The hand-over: a one-time set-password link and code (72 hours, configurable), the
password chosen under the activation policy, then a working sign-in."""

import pytest
from application_support import EMAIL, apply, handover_code, office, serial_and_secret, verify_contractor
from conftest import csrf_token

from idp import db
from idp.errors import KleidiError
from idp.identity.models import Account

PASSWORD = "πράσινο δέντρο στην αυλή"


def _handed_over(app, client, outbox, language="el"):
    apply(client, language=language)
    serial, _ = serial_and_secret(outbox)
    office(app, "approve", serial)
    verify_contractor(app, serial)
    office(app, "hand_over", serial)
    return serial, handover_code(outbox)


def _set(client, code, password=PASSWORD, confirmation=None, language="el"):
    headers = {"Accept-Language": language}
    page = client.get(f"/apply/password?code={code}", headers=headers)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post("/apply/password", headers=headers, data={
        "csrf_token": csrf_token(page), "code": code, "password": password,
        "confirmation": confirmation or password})


@pytest.mark.parametrize("language, done", [("el", "Ο λογαριασμός σας είναι έτοιμος"),
                                            ("en", "Your account is ready")])
def test_the_applicant_sets_the_password_from_the_link_and_signs_in(app, client, outbox,
                                                                    login, language, done):
    _serial, code = _handed_over(app, client, outbox, language)
    link_page = client.get(f"/apply/password?code={code}",
                           headers={"Accept-Language": language}).get_data(as_text=True)
    assert "nalexiou" in link_page
    response = _set(client, code, language=language)
    assert response.status_code == 200 and done in response.get_data(as_text=True)
    with app.app_context():
        account = db.session().query(Account).one()
        assert account.status == "active" and account.activated_at is not None
        assert account.expires_at is not None  # contractors: two years from activation
    browser = app.test_client()
    login(browser, "nalexiou", PASSWORD)
    home = browser.get("/", headers={"Accept-Language": "en"})
    assert home.status_code == 200 and "nalexiou" in home.get_data(as_text=True)


def test_the_code_works_once(app, client, outbox):
    _serial, code = _handed_over(app, client, outbox)
    _set(client, code)
    again = client.get(f"/apply/password?code={code}", headers={"Accept-Language": "en"})
    assert again.status_code == 404 and "APPLY-009" in again.get_data(as_text=True)
    assert "This set-password link does not work" in again.get_data(as_text=True)


@pytest.mark.settings(HANDOVER_LINK_SECONDS=3600)
def test_the_code_expires_and_a_new_hand_over_replaces_it(app, client, clock, outbox):
    serial, code = _handed_over(app, client, outbox)
    clock.advance(3601)
    expired = client.get(f"/apply/password?code={code}")
    assert expired.status_code == 404 and "APPLY-009" in expired.get_data(as_text=True)
    office(app, "hand_over", serial)
    fresh = handover_code(outbox)
    assert fresh != code
    assert _set(client, fresh).status_code == 200


def test_a_new_hand_over_ends_the_earlier_code(app, client, outbox):
    serial, code = _handed_over(app, client, outbox)
    office(app, "hand_over", serial)
    assert client.get(f"/apply/password?code={code}").status_code == 404
    assert _set(client, handover_code(outbox)).status_code == 200


def test_the_password_policy_of_activation_applies(app, client, outbox):
    _serial, code = _handed_over(app, client, outbox)
    short = _set(client, code, "short", language="en")
    assert short.status_code == 400 and "characters" in short.get_data(as_text=True)
    own_name = _set(client, code, "nalexiou nalexiou", language="en")
    assert own_name.status_code == 400
    with app.app_context():
        assert db.session().query(Account).one().password_hash is None
    assert _set(client, code).status_code == 200  # the refusals did not use the code


def test_once_the_password_is_set_a_hand_over_is_refused(app, client, outbox):
    serial, code = _handed_over(app, client, outbox)
    _set(client, code)
    with pytest.raises(KleidiError) as refused:
        office(app, "hand_over", serial)
    assert refused.value.entry.code == "APPLY-015"


@pytest.mark.settings(HANDOVER_CODE_TRIES_PER_IP_HOUR=2)
def test_codes_tried_from_one_address_are_limited(app, client, outbox):
    _serial, code = _handed_over(app, client, outbox)
    client.get("/apply/password?code=AAAA-BBBB-CCCC-DDDD-EEEE")
    client.get("/apply/password?code=AAAA-BBBB-CCCC-DDDD-FFFF")
    response = client.get(f"/apply/password?code={code}", headers={"Accept-Language": "en"})
    assert response.status_code == 429 and "APPLY-010" in response.get_data(as_text=True)


def test_the_code_can_be_typed_from_the_printed_sheet(app, client, outbox):
    _serial, code = _handed_over(app, client, outbox)
    page = client.get("/apply/password", headers={"Accept-Language": "en"})
    response = client.post("/apply/password", data={
        "csrf_token": csrf_token(page), "code": code.replace("-", " ").lower(),
        "password": PASSWORD, "confirmation": PASSWORD})
    assert response.status_code == 200 and EMAIL not in response.get_data(as_text=True)
    assert "nalexiou" in response.get_data(as_text=True)
