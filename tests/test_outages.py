"""Outages look like outages: with the test's own PostgreSQL or Redis stopped, a page, an OIDC
token request and a SAML SSO answer GEN-007 / temporarily_unavailable / Responder, in the
person's language and with Retry-After; everything works again once it is back, without a
restart."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
import sqlalchemy as sa
from conftest import _empty_tables, close_store
from lxml import etree
from oidc_support import REDIRECT, auth_params, pkce, query, register, sign_in_and_authorize
from oidc_support import token_request as post_token
from private_services import PrivatePostgres, PrivateRedis
from saml_sp import path_and_query, post_form

from idp import create_app, db, migrate

pytest_plugins = ("saml_fixtures",)

TEXTS = {"el": ("Η υπηρεσία είναι προσωρινά μη διαθέσιμη",
                "Μια υπηρεσία από την οποία εξαρτόμαστε δεν αποκρίνεται"),
         "en": ("Service temporarily unavailable", "A service we depend on is not answering")}
RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
STATUS = "{urn:oasis:names:tc:SAML:2.0:protocol}StatusCode"


@pytest.fixture(scope="module")
def services():
    """A PostgreSQL cluster and a Redis server of this module's own, to stop and start."""
    postgres, store = PrivatePostgres(), PrivateRedis()
    yield postgres, store
    store.remove()
    postgres.remove()


@pytest.fixture
def app(base_settings, services):
    postgres, store = services
    settings = {**base_settings, "DATABASE_URL": postgres.url, "REDIS_URL": store.url,
                "STORE_PREFIX": f"kleidi-test:{uuid.uuid4().hex}:",
                "OIDC_CLIENT_CACHE_SECONDS": 0, "DATABASE_CONNECT_TIMEOUT_SECONDS": 2}
    app = create_app(settings)
    with app.app_context():
        migrate.upgrade()
    yield app
    if not _running(postgres):
        postgres.start()
    if store.process is None:
        store.start()
    with app.app_context():
        _empty_tables()
        db.dispose()
    close_store(app)


def _running(postgres: PrivatePostgres) -> bool:
    return (postgres.data / "postmaster.pid").exists()


def assert_unavailable_page(response, language: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:300]
    assert response.headers["Retry-After"] == "30"
    assert "GEN-007" in page
    for text in TEXTS[language]:
        assert text in page


def saml_status(page: str) -> list[str]:
    """The StatusCode values of the Response an IdP page posts to the SP."""
    _action, fields = post_form(page)
    root = etree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    return [element.get("Value") for element in root.iter(STATUS)]


def recovered(client, path: str, seconds: float = 15) -> int:
    """The status of ``path`` once it no longer answers 503 (the pool drops dead connections)."""
    deadline = time.monotonic() + seconds
    while True:
        status = client.get(path).status_code
        if status != 503 or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def saml_ready(app, client, make_sp, host: str):
    """An SP whose metadata the IdP has read; then kept as a server keeps it (checked by a
    background thread, never by the request)."""
    sp = make_sp(host)
    assert client.get("/saml/metadata").status_code == 200
    client.get(path_and_query(sp.login_redirect()))
    app.config["SAML_METADATA_CHECK_SECONDS"] = 3600
    return sp


def a_code(client, login, username, password, client_id):
    verifier, challenge = pkce()
    back = query(sign_in_and_authorize(client, login, username, password,
                                       auth_params(client_id, challenge)))
    return {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier}


def test_database_down_answers_503_everywhere_and_recovers(app, client, make_account, login,
                                                           make_sp, services, caplog):
    postgres, _store = services
    username, password = make_account()
    client_id, secret = register(app)
    sp = saml_ready(app, client, make_sp, "sp1.example.org")
    exchange = a_code(client, login, username, password, client_id)
    postgres.stop()

    for language in ("el", "en"):
        assert_unavailable_page(client.get("/", headers={"Accept-Language": language}), language)
    token = post_token(client, exchange, client_id, secret)
    assert token.status_code == 503 and token.headers["Retry-After"] == "30"
    assert token.get_json()["error"] == "temporarily_unavailable"
    sso = client.get(path_and_query(sp.login_redirect()))
    assert saml_status(sso.get_data(as_text=True)) == [
        RESPONDER, "urn:kleidi:status:TemporarilyUnavailable"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {"database": "unreachable", "store": "ok"}

    postgres.start()
    assert recovered(client, "/") == 200
    assert client.get("/readyz").status_code == 200
    assert "Request finalizing failed" not in caplog.text


def test_after_a_database_restart_one_request_fails_not_one_per_pooled_connection(
        app, client, make_account, login, services):
    """A restart breaks every pooled connection: the first request to meet one answers 503 and
    the pool drops them all, so the next requests (each reading the database for the signed-in
    person) get fresh connections."""
    postgres, _store = services
    login(client, *make_account())
    assert client.get("/account").status_code == 200
    with app.app_context():
        engine = db.engine()
        held = [engine.connect() for _ in range(5)]  # five connections into the pool
        for connection in held:
            connection.execute(sa.text("select 1"))
            connection.close()
        assert engine.pool.checkedin() >= 5
    postgres.stop()
    postgres.start()

    answers = [client.get("/account").status_code for _ in range(6)]
    assert answers == [503, 200, 200, 200, 200, 200]


def test_store_down_answers_503_everywhere_and_recovers(app, client, make_account, login,
                                                        make_sp, services, caplog):
    _postgres, store = services
    username, password = make_account()
    client_id, secret = register(app)
    sp = saml_ready(app, client, make_sp, "sp2.example.org")
    exchange = a_code(client, login, username, password, client_id)
    store.stop()

    for language in ("el", "en"):
        # A signed-in browser (its session is read from the store) and a new one (its form's
        # CSRF token would be kept in the store).
        assert_unavailable_page(client.get("/", headers={"Accept-Language": language}), language)
        fresh = app.test_client()
        assert_unavailable_page(fresh.get("/login", headers={"Accept-Language": language}),
                                language)
    token = post_token(client, exchange, client_id, secret)
    assert token.status_code == 503 and token.get_json()["error"] == "temporarily_unavailable"
    sso = app.test_client().get(path_and_query(sp.login_redirect()))
    assert saml_status(sso.get_data(as_text=True)) == [
        RESPONDER, "urn:kleidi:status:TemporarilyUnavailable"]
    ready = client.get("/readyz")
    assert ready.get_json()["checks"] == {"database": "ok", "store": "unreachable"}

    store.start()
    assert recovered(app.test_client(), "/login") == 200
    assert login(app.test_client(), username, password).status_code == 303
    assert "Request finalizing failed" not in caplog.text


def test_authorization_request_goes_back_to_the_client_while_the_store_is_down(
        app, client, services):
    _postgres, store = services
    client_id, _secret = register(app)
    params = auth_params(client_id, pkce()[1])
    store.stop()
    response = client.get("/oidc/authorize", query_string=params)
    back = query(response)
    assert back["error"] == "temporarily_unavailable"
    assert back["state"] == params["state"]
    assert back["iss"] == "http://localhost"


def test_readyz_reads_the_migrations_once(app, client, caplog):
    caplog.set_level("INFO", logger="alembic")
    assert client.get("/readyz").get_json() == {"status": "ok",
                                                "checks": {"database": "ok", "store": "ok"}}
    caplog.clear()
    for _ in range(3):
        assert client.get("/readyz").status_code == 200
    assert [r for r in caplog.records if r.name.startswith("alembic")] == []
