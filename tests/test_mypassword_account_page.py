"""The account page: the person's data, affiliations, contacts, the services they allowed
(with withdrawal) and their recent sign-in activity."""

from mfa_helpers import account

from idp import consent, db

RP = "https://eclass.example.edu/shibboleth"


def test_signed_out_people_are_sent_to_log_in(client):
    assert client.get("/account").headers["Location"].endswith("/login")


def test_shows_what_is_held_and_how_to_correct_it(client, make_account, login):
    username, password = make_account(mobile="+306912345678", external_email="maria@example.org",
                                      registration="00054321")
    login(client, username, password)
    body = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for shown in ("Μαρία", "Παπαδοπούλου", "Maria", username, "Undergraduate student", "1512",
                  "00054321", "+306912345678", "maria@example.org", "2001-05-17",
                  "contact the secretariat of your department", "Second factor: off."):
        assert shown in body, shown
    greek = client.get("/account", headers={"Accept-Language": "el"}).get_data(as_text=True)
    assert "Ο λογαριασμός σας" in greek


def test_consent_is_listed_and_can_be_withdrawn(app, client, make_account, login, csrf):
    username, password = make_account()
    with app.test_request_context():
        consent.grant(account(username), RP, ["display_name", "eppn"])
        db.session().commit()
    login(client, username, password)
    page = client.get("/account", headers={"Accept-Language": "en"})
    body = page.get_data(as_text=True)
    assert RP in body and "Full name" in body
    done = client.post("/account/consent/withdraw",
                       data={"csrf_token": csrf(page), "relying_party": RP})
    assert done.status_code == 303
    with app.test_request_context():
        assert not consent.has_consent(account(username), RP, ["eppn"])
    after = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Consent withdrawn" in after  # in the activity list
    assert f'value="{RP}"' not in after


def test_withdrawal_needs_the_form_token(app, client, make_account, login):
    username, password = make_account()
    with app.test_request_context():
        consent.grant(account(username), RP, ["eppn"])
        db.session().commit()
    login(client, username, password)
    refused = client.post("/account/consent/withdraw", data={"relying_party": RP})
    assert refused.status_code == 400 and "GEN-003" in refused.get_data(as_text=True)
    with app.test_request_context():
        assert consent.has_consent(account(username), RP, ["eppn"])


def test_recent_activity_lists_sign_ins_and_failures(app, client, make_account, login):
    username, password = make_account()
    login(app.test_client(), username, "wrong password")
    login(client, username, password)
    body = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    activity = body.split('id="activity"', 1)[1]
    assert "Successful sign-in" in activity and "Failed sign-in (wrong password)" in activity
    assert "127.0.0.1" in activity
