"""Kleidi for bench/oidc_tokens.py: served by the production command (or gunicorn, to compare),
its own database, one person, one client."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from oidc_load import (
    CALLBACK,
    ROOT,
    follow,
    forget_keys,
    free_port,
    mint_codes,
    pkce,
    wait_for,
    worker_pid,
)


def kleidi_form_handler(username, password):
    def answer(browser, page):
        html = page.text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        action = urljoin(page.url, re.search(r'<form method="post" action="([^"]+)"',
                                             html).group(1))
        if 'name="decision"' in html:
            data = {"csrf_token": token, "decision": "accept"}
        else:
            iid = parse_qs(urlsplit(page.url).query)["i"][0]
            data = {"csrf_token": token, "username": username, "password": password, "i": iid}
        return browser.post(action, data=data, allow_redirects=False, timeout=30)

    return answer


@contextlib.contextmanager
def bench_database(tmp: Path):
    """A database of the benchmark's own: a new PostgreSQL database (dropped after), or SQLite."""
    server = os.environ.get("KLEIDI_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp}/bench.db"
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    url, name = make_url(server), f"kleidi_bench_{os.getpid()}_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def forget_store(settings: dict) -> None:
    """Delete the benchmark's own keys from a shared Redis (its unique prefix only)."""
    if settings["REDIS_URL"]:
        forget_keys(settings["REDIS_URL"], settings["STORE_PREFIX"])


def kleidi_settings(tmp: Path, port: int, database_url: str) -> dict:
    return {
        "ENV": "development", "BASE_URL": f"http://127.0.0.1:{port}", "KEYS_DIR": str(tmp),
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("KLEIDI_REDIS_URL", ""),
        "STORE_PREFIX": f"kleidi-bench:{secrets.token_hex(6)}:", "LOG_LEVEL": "WARNING",
        "OIDC_CODE_TTL_SECONDS": 900,  # codes are minted before the timed phase
    }


def prepare_kleidi(settings: dict) -> tuple[str, str, str, str]:
    """Schema, one person with an account, one client; returns credentials."""
    from datetime import date

    from idp import create_app, db, migrate
    from idp.identity import accounts, identifiers
    from idp.identity.models import Account, Affiliation, Person
    from idp.oidc import clients

    app = create_app(settings)
    with app.app_context():
        migrate.upgrade()
        person = Person(academic_id=identifiers.new_academic_id(), given_name_el="Μαρία",
                        family_name_el="Παπαδοπούλου", birth_date=date(2001, 5, 17))
        db.session().add(person)
        db.session().flush()
        db.session().add(Affiliation(person_id=person.id, role="undergraduate",
                                     department_id="1512", registration_id="00012345",
                                     source_registry="students"))
        account = Account(person_id=person.id, username="bench", domain="example.edu",
                          status="active")
        db.session().add(account)
        db.session().flush()
        password = secrets.token_urlsafe(16)
        accounts.set_password(account, password, actor="bench")
        row, secret = clients.add_client(redirect_uris=[CALLBACK], name="bench")
        db.session().commit()
        client_id = row.client_id
        db.dispose()
    return "bench", password, client_id, secret


#: How Kleidi is served: the production command (``kleidi serve``: granian, one worker, one
#: thread), and the previous one (gunicorn's sync worker with its access log) for comparison.
SERVERS = {
    "granian": lambda port: [str(Path(sys.executable).parent / "kleidi"), "serve", "--port",
                             str(port), "--workers", "1"],
    "gunicorn": lambda port: [str(Path(sys.executable).parent / "gunicorn"), "-w", "1",
                              "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--log-level",
                              "warning", "--access-logfile", "-", "--timeout", "30", "wsgi:app"],
}


class Kleidi:
    """Kleidi served by ``kind`` (see ``SERVERS``) on core ``core``, with its own database,
    one person signed in through a browser session, and one client."""

    def __init__(self, kind: str, tmp: Path, core: int | None):
        self.kind, self.tmp, self.core = kind, tmp, core
        self.name = f"kleidi ({kind})"
        self.grant_path = "/oidc/token"

    def __enter__(self):
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._stack = contextlib.ExitStack()
        database_url = self._stack.enter_context(bench_database(self.tmp))
        self.port = free_port()
        self.settings = kleidi_settings(self.tmp, self.port, database_url)
        self._stack.callback(forget_store, self.settings)
        self.username, self.password, self.client_id, self.secret = prepare_kleidi(self.settings)
        env = {**os.environ, **{f"KLEIDI_{k}": str(v) for k, v in self.settings.items()}}
        pin = ["taskset", "-c", str(self.core)] if self.core is not None else []
        proc = subprocess.Popen([*pin, *SERVERS[self.kind](self.port)], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._stack.callback(_stop, proc)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_for(self.base + "/.well-known/openid-configuration")
        self.pid = worker_pid(proc.pid)
        self.browser = requests.Session()
        first = {"response_type": "code", "client_id": self.client_id, "redirect_uri": CALLBACK,
                 "scope": "openid profile email", "code_challenge": pkce()[1],
                 "code_challenge_method": "S256"}
        follow(self.browser, self.base + "/oidc/authorize?" + urlencode(first),
               kleidi_form_handler(self.username, self.password))
        return self

    def codes(self, count: int) -> list[tuple[str, str]]:
        return mint_codes(self.browser, self.base + "/oidc/authorize", self.client_id, count)

    def __exit__(self, *exc):
        self._stack.close()


def _stop(proc) -> None:
    proc.terminate()
    proc.wait(timeout=30)
