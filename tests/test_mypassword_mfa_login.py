"""The second step at login: an enrolled account gets no session from its password alone,
codes work once, recovery codes work once, and relying parties that require REFEDS MFA get it
only after the second step."""

import pytest
from flask import Blueprint, jsonify, request, session
from mfa_helpers import code, enrol, second_step

from idp import mfa
from idp.login import interactions


def _protocol_blueprint():
    """A stand-in relying-party protocol that asks for an acr, as SAML and OIDC do."""
    bp = Blueprint("mfaproto", __name__)

    @bp.route("/rp/start")
    def start():
        iid = interactions.begin("fake", {}, "mfaproto.resume",
                                 requested_acr=request.args.get("acr"))
        interaction = interactions.load(iid)
        account = interactions.account_for(interaction)
        if account is None:
            return interactions.redirect_to_login(iid)
        return interactions.run_checks(account, interaction) or resume(iid)

    @bp.route("/rp/resume/<iid>")
    def resume(iid):
        interaction = interactions.load(iid)
        account = interactions.account_for(interaction)
        if account is None:
            return interactions.redirect_to_login(iid)
        diversion = interactions.run_checks(account, interaction)
        if diversion is not None:
            return diversion
        return jsonify(user=account.username, acr=mfa.achieved_acr(session),
                       amr=session["amr"], met=mfa.satisfies(session, interaction["requested_acr"]))

    return bp


@pytest.fixture
def app(app):
    app.register_blueprint(_protocol_blueprint())
    return app


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_password_alone_gives_no_session_to_an_enrolled_account(app, client, clock, make_account,
                                                                login, csrf):
    username, password = make_account()
    secret, _codes = enrol(app, clock, username)
    after = login(client, username, password)
    assert after.headers["Location"].endswith("/login/second-factor")
    assert not _signed_in(client)
    assert client.get("/login/second-factor").status_code == 200
    done = second_step(client, csrf, code(app, secret))
    assert done.status_code == 303 and done.headers["Location"].endswith("/login/continue")
    assert _signed_in(client)


def test_an_account_without_second_factor_logs_in_with_its_password(client, make_account, login):
    username, password = make_account()
    assert login(client, username, password).headers["Location"].endswith("/login/continue")
    assert _signed_in(client)


def test_a_code_is_refused_the_second_time_within_its_window(app, client, clock, make_account,
                                                            login, csrf):
    username, password = make_account()
    secret, _codes = enrol(app, clock, username)
    used = code(app, secret)
    login(client, username, password)
    assert second_step(client, csrf, used).status_code == 303
    other = app.test_client()
    login(other, username, password)
    replay = second_step(other, csrf, used)
    assert replay.status_code == 200 and "MFA-004" in replay.get_data(as_text=True)
    assert not _signed_in(other)
    # An earlier step's code, still inside the window, is refused too once a later one served.
    assert "MFA-004" in second_step(other, csrf, code(app, secret, -1)).get_data(as_text=True)
    clock.advance(30)
    assert second_step(other, csrf, code(app, secret)).status_code == 303
    assert _signed_in(other)


def test_a_recovery_code_works_once(app, client, clock, make_account, login, csrf):
    username, password = make_account()
    _secret, codes = enrol(app, clock, username)
    assert len(codes) == 10 and len(set(codes)) == 10
    login(client, username, password)
    assert second_step(client, csrf, codes[3].upper()).status_code == 303
    other = app.test_client()
    login(other, username, password)
    assert "MFA-004" in second_step(other, csrf, codes[3]).get_data(as_text=True)
    assert second_step(other, csrf, codes[4]).status_code == 303


def test_wrong_codes_end_the_login_and_then_pause_the_account(app, client, clock, make_account,
                                                             login, csrf):
    username, password = make_account()
    secret, _codes = enrol(app, clock, username)
    login(client, username, password)
    for _ in range(4):
        assert "MFA-004" in second_step(client, csrf, "000000").get_data(as_text=True)
    stopped = second_step(client, csrf, "000000")
    assert stopped.status_code == 403 and "MFA-002" in stopped.get_data(as_text=True)
    assert client.get("/login/second-factor").headers["Location"].endswith("/login")
    login(client, username, password)
    for _ in range(4):
        second_step(client, csrf, "000000")
    second_step(client, csrf, "000000")  # the tenth wrong code for this account
    login(client, username, password)
    paused = client.get("/login/second-factor")
    assert paused.status_code == 429 and "MFA-003" in paused.get_data(as_text=True)
    assert not _signed_in(client)
    clock.advance(15 * 60 + 1)
    login(client, username, password)
    assert second_step(client, csrf, code(app, secret)).status_code == 303


def test_the_pending_login_expires(app, client, clock, make_account, login, csrf):
    username, password = make_account()
    secret, _codes = enrol(app, clock, username)
    login(client, username, password)
    page = client.get("/login/second-factor")
    clock.advance(5 * 60 + 1)
    late = client.post("/login/second-factor", data={"csrf_token": csrf(page),
                                                     "code": code(app, secret)})
    assert late.status_code == 400 and "MFA-001" in late.get_data(as_text=True)
    assert not _signed_in(client)


def test_relying_party_requiring_mfa_gets_it_after_the_second_step(app, client, clock,
                                                                  make_account, login, csrf):
    username, password = make_account()
    secret, _codes = enrol(app, clock, username)
    start = client.get("/rp/start", query_string={"acr": mfa.REFEDS_MFA})
    iid = start.headers["Location"].split("i=")[1]
    assert login(client, username, password, interaction=iid).headers["Location"].endswith(
        "/login/second-factor")
    done = second_step(client, csrf, code(app, secret))
    answer = client.get(done.headers["Location"], follow_redirects=True).get_json()
    assert answer == {"user": username, "acr": mfa.REFEDS_MFA, "amr": ["pwd", "otp", "mfa"],
                      "met": True}


def test_without_a_second_factor_the_login_never_claims_mfa(client, make_account, login):
    username, password = make_account()
    start = client.get("/rp/start", query_string={"acr": mfa.REFEDS_MFA})
    iid = start.headers["Location"].split("i=")[1]
    after = login(client, username, password, interaction=iid)
    answer = client.get(after.headers["Location"], follow_redirects=True).get_json()
    assert answer == {"user": username, "acr": mfa.REFEDS_SFA, "amr": ["pwd"], "met": False}


def test_a_password_session_steps_up_when_a_service_requires_mfa(app, client, clock,
                                                                make_account, login, csrf):
    username, password = make_account()
    login(client, username, password)  # signed in before enrolling: a password-only session
    secret, _codes = enrol(app, clock, username)
    plain = client.get("/rp/start").get_json()
    assert plain["acr"] == mfa.REFEDS_SFA
    start = client.get("/rp/start", query_string={"acr": mfa.REFEDS_MFA})
    assert start.headers["Location"].endswith("/login/second-factor")
    done = second_step(client, csrf, code(app, secret))
    answer = client.get(done.headers["Location"], follow_redirects=True).get_json()
    assert answer["acr"] == mfa.REFEDS_MFA and answer["met"] is True


@pytest.mark.parametrize(("data", "wanted", "met"), [
    ({}, mfa.REFEDS_MFA, False),
    ({"account_id": 1, "amr": ["pwd"]}, None, True),
    ({"account_id": 1, "amr": ["pwd"]}, mfa.REFEDS_SFA, True),
    ({"account_id": 1, "amr": ["pwd"]}, mfa.REFEDS_MFA, False),
    ({"account_id": 1, "amr": ["pwd"], "acr": mfa.REFEDS_MFA}, mfa.REFEDS_MFA, False),
    ({"account_id": 1, "amr": ["pwd", "otp", "mfa"], "acr": mfa.REFEDS_MFA}, mfa.REFEDS_MFA, True),
    ({"account_id": 1, "amr": ["pwd"]}, f"urn:other {mfa.REFEDS_SFA}", True),
    ({"account_id": 1, "amr": ["pwd"]}, ["urn:other"], False),
])
def test_satisfies(data, wanted, met):
    assert mfa.satisfies(data, wanted) is met
