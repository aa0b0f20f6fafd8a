"""An institution brands Kleidi without forking it: names, logo, colours, support addresses,
time zone and privacy notice from configuration, and any template replaced from a folder of
its own (KLEIDI_TEMPLATES_DIR). The demo's second brand (examples/akti) is one such."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import csrf_token

from idp import config, create_app, db
from idp.audit import AuditEvent
from idp.config import ROOT, ConfigurationError
from idp.identity import accounts

AKTI = ROOT / "examples" / "akti" / "kleidi.toml"


@pytest.fixture
def akti(base_settings):
    """The app under the example's configuration (the test database and keys kept)."""
    brand = config.load(environ={"KLEIDI_CONFIG": str(AKTI)})
    overrides = {name: brand[name] for name in brand
                 if brand[name] != config.defaults()[name] and name != "DATABASE_URL"}
    overrides["TEMPLATES_DIR"] = str(ROOT / overrides["TEMPLATES_DIR"])
    app = create_app({**base_settings, "STORE_PREFIX": "kleidi-test:akti:", **overrides})
    yield app
    with app.app_context():
        db.dispose()
    app.extensions["kleidi.store"].clear()


@pytest.fixture
def build(base_settings):
    """``build(**settings)``: an app with these settings, its connections closed afterwards."""
    made = []

    def make(**settings):
        made.append(create_app({**base_settings, **settings}))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.dispose()


def test_a_folder_of_templates_replaces_any_page(build, tmp_path):
    (tmp_path / "login").mkdir()
    (tmp_path / "login" / "login.html").write_text(
        '{% extends "base.html" %}{% block title %}Είσοδος{% endblock %}'
        '{% block content %}<h1>Είσοδος στο Ίδρυμα</h1>{% endblock %}', encoding="utf-8")
    client = build(TEMPLATES_DIR=str(tmp_path)).test_client()
    login = client.get("/login").get_data(as_text=True)
    assert "<h1>Είσοδος στο Ίδρυμα</h1>" in login and 'name="password"' not in login
    assert "<h1>Ενεργοποίηση λογαριασμού</h1>" in client.get("/activate/").get_data(as_text=True)


def test_the_second_brand_of_the_demo(akti):
    client = akti.test_client()
    greek = client.get("/login").get_data(as_text=True)
    assert "<title>Σύνδεση · Πανεπιστήμιο Ακτής</title>" in greek
    assert "Καλώς ήρθατε στις ηλεκτρονικές υπηρεσίες του Πανεπιστημίου Ακτής" in greek
    assert '<svg viewBox="0 0 40 40"' in greek  # its logo
    assert 'href="mailto:helpdesk@akti.example"' in greek
    assert 'href="https://www.akti.example/el/idiotikotita"' in greek
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Welcome to the online services of Akti University" in english
    assert "--accent: #7a1f3d" in client.get("/brand.css").get_data(as_text=True)
    error = client.get("/activate/unknown/identify").get_data(as_text=True)
    assert 'href="mailto:helpdesk@akti.example?subject=' in error  # FLOW-001: the helpdesk


def test_the_second_brands_login_page_tells_what_went_wrong(akti):
    """Its own login page keeps the built-in errors: the box of a refused login, and the
    summary of the fields to fill, each linked to its field, which is marked invalid."""
    client = akti.test_client()
    token = csrf_token(client.get("/login"))
    wrong = client.post("/login", data={"csrf_token": token, "username": "nobody",
                                        "password": "not this one"}).get_data(as_text=True)
    assert 'role="alert"' in wrong and "Λάθος όνομα χρήστη ή κωδικός πρόσβασης" in wrong
    assert "(LOGIN-001)" in wrong and "Διορθώστε τα παρακάτω:" not in wrong
    empty = client.post("/login", data={"csrf_token": token, "username": "", "password": ""},
                        headers={"Accept-Language": "en"})
    body = empty.get_data(as_text=True)
    assert empty.status_code == 400
    assert 'aria-labelledby="error-summary-title"' in body and "Please correct the following:" in body
    assert 'href="#username"' in body and 'href="#password"' in body
    assert body.count('aria-invalid="true"') == 2
    assert "Welcome to the online services of Akti University" in body  # still its own page


def test_the_second_brands_words_are_refused_in_passwords(akti):
    from idp.credentials.password_policy import policy

    with akti.test_request_context():
        for password in ("AktiUniversity2025!", "Ναύπλιο2024!!", "akti.example2025"):
            assert policy().problems(password) == ["institution"], password


def test_colours_too_faint_to_read_stop_the_start(base_settings):
    faint = {"accent": "#9ab8d6", "on_accent": "#ffffff", "error": "#a4161a"}
    with pytest.raises(ConfigurationError, match="contrast"):
        create_app({**base_settings, "BRAND_COLOURS": faint})
    with pytest.raises(ConfigurationError, match="accent must be a colour"):
        create_app({**base_settings, "BRAND_COLOURS": {**faint, "accent": "red;}"}})
    with pytest.raises(ConfigurationError, match="LOGO_URL"):
        create_app({**base_settings, "LOGO_URL": "https://cdn.example.org/logo.png"})
    with pytest.raises(ConfigurationError, match="time zone"):
        create_app({**base_settings, "TIME_ZONE": "Europe/Atlantis"})


@pytest.mark.settings(LOGO_URL="/static/favicon.svg")
def test_the_logo_and_the_favicon(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<img class="logo" src="/static/favicon.svg" alt=""' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon.headers["Location"].endswith("/static/favicon.svg")
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


@pytest.mark.parametrize("zone", ["Europe/Athens", "America/New_York"])
def test_times_on_the_account_page_are_in_the_institutions_time_zone(build, login,
                                                                     make_account, zone, app):
    branded = build(STORE_PREFIX=app.config["STORE_PREFIX"], TIME_ZONE=zone)
    username, password = make_account()
    moment = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    with branded.app_context():
        account = accounts.find_by_username(username)
        db.session().add(AuditEvent(at=moment, event="login.success", account_id=account.id,
                                    actor=username, ip="192.0.2.1", detail={}))
        db.session().commit()
    client = branded.test_client()
    login(client, username, password)
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    local = moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    assert local in page and f"time zone ({zone})" in page
    assert "2026-07-01 09:30" not in page  # not UTC


def test_the_privacy_notice_is_linked_from_login_activation_and_consent(client):
    for path in ("/login", "/activate/", "/recovery"):
        for lang in ("el", "en"):
            body = client.get(path, headers={"Accept-Language": lang}).get_data(as_text=True)
            assert f'href="https://www.example.edu/{lang}/privacy"' in body, (path, lang)
