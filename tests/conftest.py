"""Fixtures: a fresh app per test on the embedded defaults, or on PostgreSQL + Redis when
KLEIDI_DATABASE_URL / KLEIDI_REDIS_URL are set. Each run gets its own database and its own
store prefix, so runs on one machine never see each other's data."""

from __future__ import annotations

import os
import re
import secrets
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from idp import create_app, db, keys, migrate
from idp.identity import accounts, identifiers
from idp.identity.models import Account, Affiliation, Person

DATABASE_URL = os.environ.get("KLEIDI_DATABASE_URL", "")
REDIS_URL = os.environ.get("KLEIDI_REDIS_URL", "")
#: CI sets KLEIDI_CI=1: a test that would skip (no browser, no node) fails instead, so a green
#: run means every test ran. Locally a skip is reported with its reason (`make test`: -rs).
SKIPS_FAIL = os.environ.get("KLEIDI_CI") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if SKIPS_FAIL and report.skipped and not hasattr(report, "wasxfail"):
        _fail_skip(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    report = (yield).get_result()
    if SKIPS_FAIL and report.skipped:
        _fail_skip(report)


def _fail_skip(report) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped, which KLEIDI_CI=1 does not allow: {reason}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database for this test run: a new PostgreSQL database, or an SQLite file."""
    if not DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'kleidi.sqlite3'}"
        return
    server = make_url(DATABASE_URL)
    name = f"kleidi_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys")
    keys.ensure_dev_keys(path)
    return path


@pytest.fixture(scope="session")
def base_settings(database_url, keys_dir):
    settings = {
        "ENV": "testing", "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
        "KEYS_DIR": str(keys_dir), "SECRET_KEY": "test secret key",
        "PAIRWISE_SECRET": "test pairwise secret", "BASE_URL": "http://localhost",
        "SERVER_NAME": "localhost",
    }
    app = create_app(settings)
    with app.app_context():
        migrate.upgrade()
        db.dispose()
    return settings


@pytest.fixture
def app(base_settings, request):
    overrides = {}
    for marker in reversed(list(request.node.iter_markers("settings"))):
        overrides.update(marker.kwargs)
    settings = {**base_settings, "STORE_PREFIX": f"kleidi-test:{uuid.uuid4().hex}:", **overrides}
    app = create_app(settings)
    yield app
    with app.app_context():
        _empty_tables()
        db.dispose()
    close_store(app)


def close_store(app, clear: bool = True) -> None:
    """Empty the app's store (its keys only) and close its Redis connections, which would
    otherwise be left to the garbage collector (an unclosed-socket warning, an error here)."""
    store = app.extensions["kleidi.store"]
    if clear:
        store.clear()
    if hasattr(store, "redis"):
        store.redis.close()


def _empty_tables() -> None:
    engine = db.engine()
    names = [n for n in sa.inspect(engine).get_table_names() if n != "alembic_version"]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text(
                "TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
            return
        connection.execute(sa.text("PRAGMA foreign_keys=OFF"))
        for name in names:
            connection.execute(sa.text(f'DELETE FROM "{name}"'))
        connection.execute(sa.text("PRAGMA foreign_keys=ON"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """An app context for tests that call core functions directly."""
    with app.test_request_context():
        yield


class Clock:
    """Moves the app's time forward (``idp.clock.now``) without sleeping."""

    def __init__(self, app):
        self.app = app

    def advance(self, seconds: float) -> None:
        self.app.config["CLOCK_OFFSET_SECONDS"] = (
            self.app.config.get("CLOCK_OFFSET_SECONDS", 0) + seconds)


@pytest.fixture
def clock(app):
    return Clock(app)


@pytest.fixture
def make_account(app):
    """Create a person with one role and an active account; returns (username, password)."""

    def make(username: str | None = None, role: str = "undergraduate", *,
             password: str | None = None, status: str = "active", kind: str = "personal",
             department: str = "1512", registration: str = "00012345", **account_fields):
        password = password or secrets.token_urlsafe(12)
        username = username or f"user{secrets.token_hex(4)}"
        with app.app_context():
            session = db.session()
            person = Person(academic_id=identifiers.new_academic_id(), given_name_el="Μαρία",
                            family_name_el="Παπαδοπούλου", given_name_en="Maria",
                            family_name_en="Papadopoulou", birth_date=date(2001, 5, 17))
            session.add(person)
            session.flush()
            session.add(Affiliation(person_id=person.id, role=role, department_id=department,
                                    registration_id=registration, source_registry="students"))
            account = Account(person_id=person.id, username=username, domain="example.edu",
                              kind=kind, status=status)
            session.add(account)
            session.flush()
            accounts.set_password(account, password, actor="test")
            for name, value in account_fields.items():
                setattr(account, name, value)
            session.commit()
        return username, password

    return make


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(response) -> str:
    """The CSRF token of the first form in a page."""
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def _login(client, username: str, password: str, interaction: str = "",
           base_url: str = "http://localhost", **environ):
    """Log in through the login page; returns the response to the form post."""
    page = client.get("/login", environ_base=environ, base_url=base_url)
    return client.post("/login", data={
        "csrf_token": csrf_token(page), "username": username, "password": password,
        "i": interaction,
    }, environ_base=environ, base_url=base_url, headers={"Referer": f"{base_url}/login"})


@pytest.fixture
def csrf():
    """``csrf(response)``: the CSRF token of the first form in a page."""
    return csrf_token


@pytest.fixture
def login():
    """``login(client, username, password)``: log in through the login page."""
    return _login


class Outbox:
    """Email and SMS the app sent: pending messages are delivered (through the development
    gateway) whenever the test looks."""

    PIN = re.compile(r"(?<!\d)(\d{6})(?!\d)")

    def __init__(self, app):
        self.app = app

    @property
    def messages(self) -> list[dict]:
        from idp import messaging
        from idp.messaging.gateways import DevMessage
        from idp.messaging.outbox import deliver_due

        with self.app.app_context():
            deliver_due(messaging.gateways())
            rows = db.session().scalars(sa.select(DevMessage).order_by(DevMessage.id)).all()
            return [{"channel": m.channel, "to": m.recipient, "subject": m.subject,
                     "body": m.body} for m in rows]

    def to(self, recipient: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == recipient]

    def last_pin(self, recipient: str | None = None) -> str:
        """The PIN in the latest message (to ``recipient``)."""
        messages = self.to(recipient) if recipient else self.messages
        assert messages, "no message was sent"
        return self.PIN.search(messages[-1]["body"]).group(1)


@pytest.fixture
def outbox(app):
    """The email and SMS sent during the test (see :class:`Outbox`)."""
    return Outbox(app)


@pytest.fixture
def make_registry_record(app):
    """Add a student registry record; returns its registration number."""

    def make(registration: str = "00012345", department: str = "1512", **fields):
        from idp.identity.models import RegistryRecord

        values = {"first_name_el": "Ελένη", "last_name_el": "Νικολάου", "first_name_en": "Eleni",
                  "last_name_en": "Nikolaou", "birth_date": date(2004, 3, 9),
                  "mobile_phone": "+306912345678", "ext_email": "eleni.n@example.org",
                  "enrollment_status": "active", "enrollment_type": "undergraduate",
                  "role": "undergraduate", "inscription_ac_year": "2025-2026", **fields}
        with app.app_context():
            db.session().add(RegistryRecord(source_registry="students", department_id=department,
                                            registration_id=registration, **values))
            db.session().commit()
        return registration

    return make


#: The browser for browser tests: Debian's chromium, never a downloaded one.
CHROMIUM = os.environ.get("KLEIDI_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def sync_playwright():
    """Playwright's sync API, or a skip that says what is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser test skipped: no Chromium at {CHROMIUM} "
                    "(apt-get install -y chromium, or set KLEIDI_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser test skipped: the playwright package is not installed")
    return sync_playwright


@pytest.fixture(scope="session")
def node_dir():
    """A folder with the npm packages of tests/interop/package.json and its scripts, or a skip
    that says what is missing (node, npm, or the install)."""
    from interop import node_env

    try:
        return node_env.workdir()
    except node_env.NodeUnavailable as exc:
        pytest.skip(f"interop test skipped: {exc}")


class PolicyWatch:
    """Content Security Policy violations that Chromium reported on the watched pages (it
    writes each to the page's console, frames included, with JavaScript on or off)."""

    def __init__(self):
        self.violations: list[str] = []

    def watch(self, page):
        page.on("console", lambda message: self.violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        return page


@pytest.fixture
def csp():
    """``csp.watch(page)``: the test fails if the page breaks the content security policy."""
    watch = PolicyWatch()
    yield watch
    assert watch.violations == [], "\n".join(watch.violations)


@pytest.fixture
def phone(sync_playwright, request):
    """``phone(language)``: a new page on a 360 px phone; ``phone.check(page, name)`` checks
    a state of it (no sideways scrolling, no axe-core violation) and photographs it into
    ``test-artifacts/<test name>/`` (see ``tests/browser.py``)."""
    from browser import Phone, artifacts_folder

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            yield Phone(browser, artifacts_folder(request.node.name))
        finally:
            browser.close()


@pytest.fixture
def live_app(app, tmp_path):
    """The test app served over HTTP on a free loopback port by the production command,
    ``kleidi serve``, in a process of its own: with the app's settings as they are when this
    fixture starts (configure the app before it), its database, and its store on Redis."""
    from served import kleidi_serve

    from idp import config as settings

    defaults = settings.defaults()
    given = {k: v for k, v in app.config.items()
             if k in defaults and v != defaults[k] and k not in ("BASE_URL", "SERVER_NAME")}
    with kleidi_serve(given, tmp_path) as server:
        app.config.update(SERVER_NAME=server.base.removeprefix("http://"), BASE_URL=server.base)
        yield server.base


@pytest.fixture
def make_operator(app, clock, make_account):
    """``make_operator(*roles, second_factor=True)``: an active account with these operator
    roles and an enrolled TOTP app; ``.client()`` is a client signed in with password and
    code, ``.username``, ``.secret`` (see tests/manage_support.py)."""
    from manage_support import make

    def factory(*roles: str, **options):
        return make(app, clock, make_account, *roles, **options)

    return factory
