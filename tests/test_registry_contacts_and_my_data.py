"""Password recovery also accepts the contacts the registry holds for the person (the
secretariat's records), with the same answer for unknown ones; the account page says where
each contact came from; "download my data" gives the person what is held about them."""

from __future__ import annotations

import json

from lifecycle_support import enrolled
from oidc_support import code_flow, register
from recovery_helpers import NEW_PASSWORD, ask_recovery, normalized, recover

REGISTRY_MOBILE = "+306912345670"


def test_recovery_by_the_registrys_mobile(app, client, csrf, outbox, login):
    username, _ = enrolled(app, mobile=REGISTRY_MOBILE, email=None)
    done = recover(client, csrf, outbox, username, REGISTRY_MOBILE, mobile=REGISTRY_MOBILE)
    assert done.status_code in (200, 303), done.get_data(as_text=True)
    assert [m["channel"] for m in outbox.to(REGISTRY_MOBILE)][0] == "sms"
    assert login(app.test_client(), username, NEW_PASSWORD).status_code == 303


def test_an_unknown_contact_gets_the_same_answer_and_no_message(app, client, csrf, outbox):
    username, _ = enrolled(app, mobile=REGISTRY_MOBILE, email=None)
    known = ask_recovery(client, csrf, username, mobile=REGISTRY_MOBILE)
    other = app.test_client()
    unknown = ask_recovery(other, csrf, username, mobile="+306912345679")
    assert known.status_code == unknown.status_code == 303
    known_page = client.get(known.headers["Location"]).get_data(as_text=True)
    unknown_page = other.get(unknown.headers["Location"]).get_data(as_text=True)
    assert normalized(known_page, known.headers["Location"]) == normalized(
        unknown_page, unknown.headers["Location"])
    assert outbox.to("+306912345679") == [] and len(outbox.to(REGISTRY_MOBILE)) == 1


def test_the_account_page_says_where_each_contact_came_from(app, client, login):
    username, password = enrolled(app, mobile=REGISTRY_MOBILE, email="mine@example.org")
    login(client, username, password)
    client.set_cookie("kleidi_lang", "en", domain="localhost")
    body = client.get("/account").get_data(as_text=True)
    assert "mine@example.org</span> —\n      registered with your account" in body
    assert (f"{REGISTRY_MOBILE}</span> —\n      from the student registry (your secretariat's "
            "records)") in body.replace("&#39;", "'")


def test_download_my_data(app, client, login):
    username, password = enrolled(app, mobile=REGISTRY_MOBILE)
    rp, secret = register(app)
    code_flow(client, login, app, username=username, password=password, client_id=rp,
              secret=secret)
    response = client.get("/account/data.json")
    assert response.status_code == 200 and "attachment" in response.headers[
        "Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["person"]["family_name_el"] == "Παπαδοπούλου"
    assert data["account"]["username"] == username and "email" in data["account"]["services"]
    assert data["affiliations"][0]["role"] == "undergraduate"
    assert {"channel": "sms", "value": REGISTRY_MOBILE, "source": "registry",
            "registry": "students"} in data["recovery_contacts"]
    consent, = data["consents"]
    assert consent["relying_party"] == rp and "eppn" in consent["attributes"]
    assert {r["event"] for r in data["releases"] if r["relying_party"] == rp} == {
        "consent.granted", "oidc.code_issued"}
    body = response.get_data(as_text=True)
    with app.app_context():
        from idp.identity import accounts

        assert accounts.find_by_username(username).person.academic_id not in body


def test_download_needs_a_login(client):
    assert client.get("/account/data.json").status_code == 302
