"""The token endpoint: client authentication, codes used once, refresh rotation and revocation."""

import base64
import logging

import pytest
import sqlalchemy as sa
from oidc_support import (
    REDIRECT,
    auth_params,
    code_flow,
    id_token_claims,
    pkce,
    query,
    register,
    sign_in_and_authorize,
    token_request,
)

from idp import consent, db
from idp.audit import AuditEvent
from idp.identity import accounts
from idp.oidc import tokens
from idp.oidc.models import OidcGrant, OidcRefreshToken
from idp.store import store


def _code(client, login, username, password, client_id, challenge=None, **extra):
    params = auth_params(client_id, challenge, **extra)
    return query(sign_in_and_authorize(client, login, username, password, params))["code"]


def _exchange(client, code, client_id, secret, verifier=None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    if verifier:
        data["code_verifier"] = verifier
    return token_request(client, data, client_id, secret)


def _refresh(client, refresh_token, client_id, secret):
    return token_request(client, {"grant_type": "refresh_token", "refresh_token": refresh_token},
                         client_id, secret)


def _userinfo(client, access_token):
    return client.get("/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture
def person(make_account):
    return make_account()


@pytest.fixture
def rp(app):
    return register(app)


def test_token_response_is_not_cached(app, client, login, person, rp):
    verifier, challenge = pkce()
    code = _code(client, login, *person, rp[0], challenge)
    response = _exchange(client, code, *rp, verifier)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_code_reuse_fails_and_revokes_what_it_issued(app, client, login, person, rp):
    code = _code(client, login, *person, rp[0])
    first = _exchange(client, code, *rp).get_json()
    assert _userinfo(client, first["access_token"]).status_code == 200
    second = _exchange(client, code, *rp)
    assert second.status_code == 400 and second.get_json()["error"] == "invalid_grant"
    assert _userinfo(client, first["access_token"]).status_code == 401
    assert _refresh(client, first["refresh_token"], *rp).get_json()["error"] == "invalid_grant"


def test_expired_code_is_invalid_grant(app, client, login, person, rp, clock):
    code = _code(client, login, *person, rp[0])
    clock.advance(app.config["OIDC_CODE_TTL_SECONDS"] + 1)
    assert _exchange(client, code, *rp).get_json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(app, client, login, person, rp):
    code = _code(client, login, *person, rp[0])
    response = _exchange(client, code, rp[0], "not-the-secret")
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_registered_auth_method_is_enforced_when_held_to_it(app, client, login, person):
    client_id, secret = register(app, auth_method="client_secret_basic", strict_auth_method=True)
    code = _code(client, login, *person, client_id)
    response = token_request(client, {"grant_type": "authorization_code", "code": code,
                                      "redirect_uri": REDIRECT, "client_id": client_id,
                                      "client_secret": secret})
    assert response.get_json()["error"] == "invalid_client"


def test_client_secret_post_client(app, client, login, person):
    client_id, secret = register(app, auth_method="client_secret_post")
    code = _code(client, login, *person, client_id)
    response = token_request(client, {"grant_type": "authorization_code", "code": code,
                                      "redirect_uri": REDIRECT, "client_id": client_id,
                                      "client_secret": secret})
    assert response.status_code == 200 and response.get_json()["id_token"]


def test_code_of_another_client_is_invalid_grant(app, client, login, person, rp):
    other = register(app)
    code = _code(client, login, *person, rp[0])
    assert _exchange(client, code, *other).get_json()["error"] == "invalid_grant"


def test_redirect_uri_must_repeat_at_the_token_endpoint(app, client, login, person, rp):
    code = _code(client, login, *person, rp[0])
    response = _exchange(client, code, *rp, redirect_uri=REDIRECT + "/other")
    assert response.get_json()["error"] == "invalid_grant"


def test_pkce_verifier_must_match(app, client, login, person, rp):
    _, challenge = pkce()
    code = _code(client, login, *person, rp[0], challenge)
    wrong, _ = pkce()
    assert _exchange(client, code, *rp, wrong).get_json()["error"] == "invalid_grant"


def test_pkce_downgrade_verifier_without_challenge_is_refused(app, client, login, person, rp):
    code = _code(client, login, *person, rp[0])  # no code_challenge in the request
    verifier, _ = pkce()
    assert _exchange(client, code, *rp, verifier).get_json()["error"] == "invalid_request"


def test_pkce_challenge_without_verifier_is_refused(app, client, login, person, rp):
    _, challenge = pkce()
    code = _code(client, login, *person, rp[0], challenge)
    assert _exchange(client, code, *rp).get_json()["error"] == "invalid_request"


def test_public_client_with_pkce(app, client, login, person):
    client_id, secret = register(app, auth_method="none")
    assert secret is None
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=client_id)
    assert token["id_token"] and token["refresh_token"]


def test_refresh_rotates_and_reuse_revokes_the_family(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    second = _refresh(client, token["refresh_token"], *rp).get_json()
    assert second["refresh_token"] != token["refresh_token"]
    assert second["access_token"] != token["access_token"]
    assert second["scope"] == token["scope"]
    reuse = _refresh(client, token["refresh_token"], *rp)
    assert reuse.status_code == 400 and reuse.get_json()["error"] == "invalid_grant"
    # the thief's use revoked the legitimate newest token too
    assert _refresh(client, second["refresh_token"], *rp).get_json()["error"] == "invalid_grant"
    assert _userinfo(client, second["access_token"]).status_code == 401


def test_two_requests_racing_with_one_refresh_token_revoke_the_family(app, client, login,
                                                                     person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    with app.test_request_context():  # one request has checked the token...
        found = tokens.live_refresh_token(token["refresh_token"], rp[0])
    winner = _refresh(client, token["refresh_token"], *rp).get_json()  # ...another uses it
    with app.test_request_context():  # the first cannot replace it any more
        assert tokens.replace_refresh_token(found, tokens.new_secret()) is False
    assert _refresh(client, winner["refresh_token"], *rp).get_json()["error"] == "invalid_grant"


def test_refused_refresh_request_leaves_the_token_usable(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    wider = token_request(client, {"grant_type": "refresh_token", "scope": "openid offline_access",
                                   "refresh_token": token["refresh_token"]}, *rp)
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"
    assert _refresh(client, token["refresh_token"], *rp).status_code == 200


def test_refresh_family_has_an_absolute_lifetime(app, client, login, person, rp, clock):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    half = app.config["OIDC_REFRESH_ABSOLUTE_SECONDS"] // 2
    clock.advance(half)
    refreshed = _refresh(client, token["refresh_token"], *rp).get_json()
    clock.advance(half)  # rotation does not extend the family's life
    assert _refresh(client, refreshed["refresh_token"], *rp).get_json()["error"] == "invalid_grant"


def test_refresh_of_another_client_is_refused(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    other = register(app)
    assert _refresh(client, token["refresh_token"], *other).get_json()["error"] == "invalid_grant"
    assert _refresh(client, token["refresh_token"], *rp).status_code == 200


def test_no_refresh_token_for_a_client_without_them(app, client, login, person):
    client_id, secret = register(app, refresh_tokens=False)
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=client_id, secret=secret)
    assert "refresh_token" not in token


def test_password_change_kills_refresh_and_access_tokens(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    with app.app_context():
        accounts.set_password(accounts.find_by_username(person[0]), "a new long passphrase 42")
        db.session().commit()
    assert _refresh(client, token["refresh_token"], *rp).get_json()["error"] == "invalid_grant"
    assert _userinfo(client, token["access_token"]).status_code == 401


def test_disabled_account_kills_its_tokens(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    with app.app_context():
        accounts.find_by_username(person[0]).status = "disabled"
        db.session().commit()
    assert _refresh(client, token["refresh_token"], *rp).get_json()["error"] == "invalid_grant"
    assert _userinfo(client, token["access_token"]).status_code == 401
    with app.app_context():  # re-enabling does not bring the old tokens back
        accounts.find_by_username(person[0]).status = "active"
        db.session().commit()
    assert _refresh(client, token["refresh_token"], *rp).get_json()["error"] == "invalid_grant"


def test_revoking_a_refresh_token_ends_its_access_tokens(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    response = client.post("/oidc/revoke", data={"token": token["refresh_token"],
                                                 "token_type_hint": "refresh_token"},
                           headers=_basic(*rp))
    assert response.status_code == 200
    assert _refresh(client, token["refresh_token"], *rp).get_json()["error"] == "invalid_grant"
    assert _userinfo(client, token["access_token"]).status_code == 401


def test_revoking_an_access_token(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    response = client.post("/oidc/revoke", data={"token": token["access_token"],
                                                 "token_type_hint": "access_token"},
                           headers=_basic(*rp))
    assert response.status_code == 200
    assert _userinfo(client, token["access_token"]).status_code == 401
    assert _refresh(client, token["refresh_token"], *rp).status_code == 200


def test_revoking_an_unknown_token_is_fine_but_needs_client_auth(app, client, rp):
    assert client.post("/oidc/revoke", data={"token": "nope"},
                       headers=_basic(*rp)).status_code == 200
    assert client.post("/oidc/revoke", data={"token": "nope"}).status_code == 401


def test_introspection(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    answer = client.post("/oidc/introspect", data={"token": token["access_token"]},
                         headers=_basic(*rp)).get_json()
    assert answer["active"] is True and answer["client_id"] == rp[0]
    assert answer["scope"] == token["scope"] and answer["sub"]
    other = register(app)
    hidden = client.post("/oidc/introspect", data={"token": token["access_token"]},
                         headers=_basic(*other)).get_json()
    assert hidden == {"active": False}
    client.post("/oidc/revoke", data={"token": token["refresh_token"]}, headers=_basic(*rp))
    dead = client.post("/oidc/introspect", data={"token": token["access_token"]},
                       headers=_basic(*rp)).get_json()
    assert dead == {"active": False}


def _basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_refresh_reuse_is_audited(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    _refresh(client, token["refresh_token"], *rp)
    _refresh(client, token["refresh_token"], *rp)
    with app.app_context():
        events = db.session().scalars(sa.select(AuditEvent).where(
            AuditEvent.event == "oidc.grant_revoked")).all()
        assert [e.detail["reason"] for e in events] == ["refresh_reuse"]
        assert events[0].detail["client_id"] == rp[0] and events[0].account_id


def test_withdrawn_consent_ends_the_clients_tokens(app, client, login, person, rp):
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    with app.test_request_context():
        assert consent.withdraw(accounts.find_by_username(person[0]), rp[0])
        db.session().commit()
    assert _refresh(client, token["refresh_token"], *rp).get_json()["error"] == "invalid_grant"
    assert _userinfo(client, token["access_token"]).status_code == 401


def test_code_issued_before_a_password_change_is_refused(app, client, login, person, rp):
    code = _code(client, login, *person, rp[0])
    with app.app_context():
        accounts.set_password(accounts.find_by_username(person[0]), "a new long passphrase 42")
        db.session().commit()
    assert _exchange(client, code, *rp).get_json()["error"] == "invalid_grant"


def test_code_of_a_disabled_account_is_refused_and_starts_nothing(app, client, login, person,
                                                                  rp):
    code = _code(client, login, *person, rp[0])
    with app.app_context():
        accounts.find_by_username(person[0]).status = "disabled"
        db.session().commit()
    response = _exchange(client, code, *rp)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    with app.app_context():
        assert db.session().scalar(sa.select(sa.func.count()).select_from(OidcGrant)) == 0
        assert db.session().scalar(sa.select(sa.func.count()).select_from(OidcRefreshToken)) == 0


def test_code_stored_without_its_sub_still_exchanges_for_the_same_sub(app, client, login,
                                                                      person, rp):
    """A code issued by a release that did not store the pairwise sub with it (codes live a
    minute; an upgrade in between must not break the login in flight)."""
    first, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    code = _code(client, login, *person, rp[0])
    with app.app_context():
        key = "oidc:code:" + tokens.digest(code)
        record = store().get(key)
        del record["sub"]
        store().put(key, record, 60)
    second = _exchange(client, code, *rp)
    assert second.status_code == 200
    assert (id_token_claims(client, second.get_json()["id_token"])["sub"]
            == id_token_claims(client, first["id_token"])["sub"])


@pytest.mark.settings(LOG_LEVEL="DEBUG")
def test_tokens_never_reach_the_log_even_at_debug(app, client, login, person, rp, caplog):
    caplog.set_level(logging.DEBUG)
    token, _, _ = code_flow(client, login, app, username=person[0], password=person[1],
                            client_id=rp[0], secret=rp[1])
    refreshed = _refresh(client, token["refresh_token"], *rp).get_json()
    for secret in (token["access_token"], token["refresh_token"], refreshed["access_token"],
                   refreshed["refresh_token"], rp[1]):
        assert secret not in caplog.text


class _CountingStore:
    """The app's real store, noting each operation it is asked for."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            self.calls.append(name)
            return attribute(*args, **kwargs)
        return call


def _round_trips(app):
    """Store operations and database round trips (statements and commits) made while the
    block runs: on PostgreSQL as psycopg sends them (hot statements bypass SQLAlchemy), on
    SQLite as SQLAlchemy executes them, on both of the app's engines."""
    store_ = _CountingStore(app.extensions["kleidi.store"])
    database = []
    engines = [app.extensions["kleidi.db"].kw["bind"], app.extensions["kleidi.db.autocommit"]]
    on_postgresql = engines[0].dialect.name == "postgresql"

    def statement(_conn, _cursor, sql, *_):
        database.append(sql.split()[0].upper())

    def commit(_conn):
        database.append("COMMIT")

    class Counted:
        def __enter__(self):
            app.extensions["kleidi.store"] = store_
            if on_postgresql:
                import psycopg

                self.execute, self.commit = psycopg.Cursor.execute, psycopg.Connection.commit
                psycopg.Cursor.execute = lambda cursor, sql, *a, **k: (
                    statement(None, None, str(sql)), self.execute(cursor, sql, *a, **k))[1]
                psycopg.Connection.commit = lambda connection: (
                    commit(None), self.commit(connection))[1]
            else:
                for engine in engines:
                    sa.event.listen(engine, "before_cursor_execute", statement)
                    sa.event.listen(engine, "commit", commit)
            return store_.calls, database

        def __exit__(self, *exc):
            app.extensions["kleidi.store"] = store_.inner
            if on_postgresql:
                import psycopg

                psycopg.Cursor.execute, psycopg.Connection.commit = self.execute, self.commit
                return
            for engine in engines:
                sa.event.remove(engine, "before_cursor_execute", statement)
                sa.event.remove(engine, "commit", commit)
    return Counted()


def test_a_code_exchange_takes_one_store_round_trip_and_one_database_write(app, client, login,
                                                                          person, rp):
    """The code is taken and the access token stored in one store operation; the grant and
    its refresh token are written in one statement (PostgreSQL) or one transaction (SQLite,
    which has no data-modifying WITH)."""
    relying_party = app.test_client()  # server to server: without the browser's cookies
    # A first exchange opens the pooled connections (a new one asks the server for its version).
    assert _exchange(relying_party, _code(client, login, *person, rp[0]), *rp).status_code == 200
    verifier, challenge = pkce()
    code = _code(client, login, *person, rp[0], challenge)
    with _round_trips(app) as (store_calls, database):
        response = _exchange(relying_party, code, *rp, verifier)
    assert response.status_code == 200
    assert store_calls == ["redeem"]
    if app.extensions["kleidi.db"].kw["bind"].dialect.name == "postgresql":
        assert database == ["WITH"]
    else:
        assert database == ["INSERT", "INSERT", "COMMIT"]
    assert _userinfo(client, response.get_json()["access_token"]).status_code == 200


def test_an_exchange_refused_after_its_code_was_taken_leaves_no_working_token(
        app, client, login, person, rp, monkeypatch):
    """The access token is stored with the code's redemption, before the grant exists: one
    refused later (here: the account was disabled meanwhile) names a grant that never starts."""
    made = []
    real = tokens.new_secret
    monkeypatch.setattr(tokens, "new_secret", lambda: made.append(real()) or made[-1])
    code = _code(client, login, *person, rp[0])
    with app.app_context():
        accounts.find_by_username(person[0]).status = "disabled"
        db.session().commit()
    assert _exchange(client, code, *rp).get_json()["error"] == "invalid_grant"
    with app.app_context():
        stored = [value for value in made if store().get("oidc:at:" + tokens.digest(value))]
        accounts.find_by_username(person[0]).status = "active"
        db.session().commit()
    assert stored, "the exchange stored its access token with the code's redemption"
    for value in stored:
        assert _userinfo(client, value).status_code == 401
        introspected = client.post("/oidc/introspect", data={"token": value},
                                   auth=(rp[0], rp[1])).get_json()
        assert introspected == {"active": False}
