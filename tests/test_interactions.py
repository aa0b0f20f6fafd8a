"""The one login, as a protocol adapter uses it: interaction, login, checks, consent, resume."""

import pytest
from flask import Blueprint, jsonify

from idp.login import interactions

RP = "https://sp.example.org/shibboleth"


def _protocol_blueprint():
    """A minimal relying-party protocol, standing in for SAML or OIDC."""
    bp = Blueprint("fakeproto", __name__)

    @bp.route("/fake/start")
    def start():
        from flask import request

        iid = interactions.begin(
            "fake", {"n": 1}, "fakeproto.resume",
            force_login=request.args.get("force") == "1", relying_party=RP, rp_name="E-class",
            release={"display_name": ["Maria Papadopoulou"], "affiliation": ["student"]},
        )
        interaction = interactions.load(iid)
        account = interactions.account_for(interaction)
        if account is None:
            return interactions.redirect_to_login(iid)
        return interactions.run_checks(account, interaction) or resume(iid)

    @bp.route("/fake/resume/<iid>")
    def resume(iid):
        interaction = interactions.load(iid)
        account = interactions.account_for(interaction)
        if account is None:
            return interactions.redirect_to_login(iid)
        if interaction.get("denied"):
            return jsonify(error="access_denied")
        diversion = interactions.run_checks(account, interaction)
        if diversion is not None:
            return diversion
        interactions.finish(iid)
        return jsonify(user=account.username, payload=interaction["payload"])

    return bp


@pytest.fixture
def app(app):
    app.register_blueprint(_protocol_blueprint())
    return app


def _iid(location: str) -> str:
    return location.split("i=")[1]


def _consent(client, csrf, location, decision="accept"):
    page = client.get(location)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Maria Papadopoulou" in body and "E-class" in body
    return client.post(location, data={"csrf_token": csrf(page), "decision": decision})


def test_login_then_consent_then_resume(client, make_account, login, csrf):
    username, password = make_account()
    start = client.get("/fake/start")
    assert start.status_code == 302 and "/login?i=" in start.headers["Location"]
    iid = _iid(start.headers["Location"])
    page = client.get(start.headers["Location"])
    assert "E-class" in page.get_data(as_text=True)
    after = login(client, username, password, interaction=iid)
    checks = client.get(after.headers["Location"])
    assert checks.headers["Location"].endswith(f"/consent/{iid}")
    accepted = _consent(client, csrf, checks.headers["Location"])
    done = client.get(accepted.headers["Location"], follow_redirects=True)
    assert done.get_json() == {"user": username, "payload": {"n": 1}}
    # The decision is remembered and the session is reused: the next request answers at once.
    assert client.get("/fake/start").get_json()["user"] == username


def test_declining_consent_tells_the_relying_party(client, make_account, login, csrf):
    username, password = make_account()
    iid = _iid(client.get("/fake/start").headers["Location"])
    login(client, username, password, interaction=iid)
    declined = _consent(client, csrf, f"/consent/{iid}", decision="decline")
    assert client.get(declined.headers["Location"]).get_json() == {"error": "access_denied"}


def test_force_login_asks_for_the_password_again(client, make_account, login, csrf):
    username, password = make_account()
    iid = _iid(client.get("/fake/start").headers["Location"])
    login(client, username, password, interaction=iid)
    _consent(client, csrf, f"/consent/{iid}")
    forced = client.get("/fake/start?force=1")
    assert "/login?i=" in forced.headers["Location"]
    assert client.get(forced.headers["Location"]).status_code == 200


def test_an_unknown_interaction_shows_the_error_page(client):
    response = client.get("/login?i=made-up")
    assert response.status_code == 400
    assert "LOGIN-004" in response.get_data(as_text=True)


@pytest.mark.settings(INTERACTION_TTL_SECONDS=60)
def test_an_expired_interaction_shows_the_error_page(client, clock, make_account, login):
    username, password = make_account()
    location = client.get("/fake/start").headers["Location"]
    clock.advance(61)
    response = login(client, username, password, interaction=_iid(location))
    assert response.status_code == 400
    assert "LOGIN-004" in response.get_data(as_text=True)


def test_an_expired_account_is_stopped_by_the_checks(client, make_account, login):
    username, password = make_account(status="expired")
    iid = _iid(client.get("/fake/start").headers["Location"])
    response = login(client, username, password, interaction=iid)
    assert response.status_code == 403
    assert "LIFE-001" in response.get_data(as_text=True)


def test_a_password_that_must_change_is_changed_before_the_service_answers(
        client, make_account, login, csrf):
    username, password = make_account(must_change_password=True)
    iid = _iid(client.get("/fake/start").headers["Location"])
    after = login(client, username, password, interaction=iid)
    diverted = client.get(after.headers["Location"])
    assert diverted.status_code == 302
    change_url = diverted.headers["Location"]
    assert change_url.startswith("/account/password?next=")
    page = client.get(change_url)
    changed = client.post(change_url, data={
        "csrf_token": csrf(page), "current": password,
        "new": "a fresh passphrase of several words", "repeat": "a fresh passphrase of several words",
    })
    assert changed.status_code == 200
    assert f'href="/login/continue/{iid}"' in changed.get_data(as_text=True)
    consent = client.get(f"/login/continue/{iid}")
    assert consent.headers["Location"].endswith(f"/consent/{iid}")


def test_a_password_change_page_never_sends_the_person_elsewhere(client, make_account, login):
    username, password = make_account()
    login(client, username, password)
    page = client.get("/account/password?next=https://evil.example/").get_data(as_text=True)
    main = page.split('<main id="main">', 1)[1]
    assert "evil.example" not in main and 'action="/account/password"' in main


def test_language_switch_only_returns_to_this_site(client):
    response = client.get("/lang/en?next=https://evil.example/steal")
    assert response.headers["Location"] == "/"
    response = client.get("/lang/en?next=//evil.example")
    assert response.headers["Location"] == "/"
    response = client.get("/lang/en?next=/login")
    assert response.headers["Location"] == "/login"
    assert "kleidi_lang=en" in response.headers["Set-Cookie"]
