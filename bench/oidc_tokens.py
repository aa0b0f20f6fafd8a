"""Token endpoint throughput: code->token exchanges and refreshes per second, per worker core.

Kleidi runs under gunicorn (one worker process with four threads: one core) on 127.0.0.1;
node-oidc-provider (from the npm registry, installed into a temporary folder) runs as one
Node.js process (also one core) with the same client set-up: confidential client,
client_secret_basic, S256 PKCE, RS256 ID tokens, rotating refresh tokens.

For each server the script obtains N codes through a signed-in browser session (not timed),
then times N code exchanges, then N refreshes (each refresh token once), with C requests in
flight from a Node.js load generator. Rounds alternate between the two servers; the median
round's req/s, p50 and p99 go to bench/results/oidc_tokens-<backend>.json and .md.

    .venv/bin/python bench/oidc_tokens.py [--requests 1000] [--concurrency 8] [--rounds 3]

Kleidi uses the embedded SQLite + in-process store, or PostgreSQL + Redis when
KLEIDI_DATABASE_URL and KLEIDI_REDIS_URL are set (a database of its own is created on that
server and dropped afterwards; only its own Redis keys are deleted).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from interop import node_env  # noqa: E402

CALLBACK = "http://127.0.0.1:9/callback"
RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


# -- Load --------------------------------------------------------------------------------


def run_load(port, path, forms, auth, concurrency) -> dict:
    """POST every form with ``concurrency`` requests in flight (bench/load.mjs, in Node so
    that the load generator costs less CPU than the servers it measures)."""
    folder = node_env.workdir([ROOT / "bench" / "load.mjs", ROOT / "bench" / "node_op.mjs"])
    feed = "".join(json.dumps({"form": form}) + "\n" for form in forms)
    done = subprocess.run([node_env.node(), str(folder / "load.mjs"), str(port), path,
                           str(concurrency), auth], input=feed, capture_output=True, text=True,
                          timeout=600, check=True)
    result = json.loads(done.stdout)
    latencies = sorted(result["latencies_ms"])
    answers = [body if status == 200 else None for status, body in result["answers"]]
    return {
        "requests": len(forms), "errors": answers.count(None),
        "seconds": round(result["seconds"], 3),
        "per_second": round(len(forms) / result["seconds"], 1),
        "p50_ms": round(latencies[len(latencies) // 2], 2),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2),
        "answers": answers,
    }


def measure(name, port, token_path, codes, client_id, secret, concurrency) -> dict:
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    exchanges = [{"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                  "code_verifier": verifier} for code, verifier in codes]
    exchange = run_load(port, token_path, exchanges, auth, concurrency)
    refreshes = [{"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]}
                 for answer in exchange.pop("answers") if answer]
    refresh = run_load(port, token_path, refreshes, auth, concurrency)
    refresh.pop("answers")
    print(f"{name}: exchange {exchange['per_second']}/s p50 {exchange['p50_ms']} ms "
          f"p99 {exchange['p99_ms']} ms; refresh {refresh['per_second']}/s "
          f"p50 {refresh['p50_ms']} ms p99 {refresh['p99_ms']} ms", flush=True)
    return {"code_exchange": exchange, "refresh": refresh}


def mint_codes(browser, authorize_url, client_id, count) -> list[tuple[str, str]]:
    """Codes from a signed-in browser session (consent already remembered)."""
    codes = []
    for _ in range(count):
        verifier, challenge = pkce()
        params = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
                  "scope": "openid profile email", "state": secrets.token_hex(4),
                  "nonce": secrets.token_hex(4), "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        location = follow(browser, authorize_url + "?" + urlencode(params))
        codes.append((parse_qs(urlsplit(location).query)["code"][0], verifier))
    return codes


def follow(browser, url, form_handler=None) -> str:
    """Follow redirects until the callback; ``form_handler`` answers pages with forms."""
    response = browser.get(url, allow_redirects=False, timeout=30)
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(CALLBACK):
                return target
            response = browser.get(target, allow_redirects=False, timeout=30)
        elif form_handler is not None:
            response = form_handler(browser, response)
        else:
            raise RuntimeError(f"unexpected page {response.url}: {response.status_code}")
    raise RuntimeError("no code came back")


# -- Kleidi under gunicorn ----------------------------------------------------------------


def kleidi_form_handler(username, password):
    import re

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
        import redis

        client = redis.Redis.from_url(settings["REDIS_URL"])
        for key in client.scan_iter(match=settings["STORE_PREFIX"] + "*", count=500):
            client.delete(key)


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

    from idp import accounts, create_app, db, identifiers, migrate
    from idp.models import Account, Affiliation, Person
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
        db.engine().dispose()
    return "bench", password, client_id, secret


def bench_kleidi(tmp: Path, count: int, concurrency: int) -> dict:
    with bench_database(tmp) as database_url:
        settings = kleidi_settings(tmp, free_port(), database_url)
        try:
            return _bench_kleidi(settings, count, concurrency)
        finally:
            forget_store(settings)


def _bench_kleidi(settings: dict, count: int, concurrency: int) -> dict:
    port = int(settings["BASE_URL"].rsplit(":", 1)[1])
    username, password, client_id, secret = prepare_kleidi(settings)
    env = {**os.environ, **{f"KLEIDI_{k}": str(v) for k, v in settings.items()}}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    # As `kleidi serve` runs it: one worker process (one core), four threads.
    with subprocess.Popen([str(gunicorn), "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}",
                           "--chdir", str(ROOT), "--log-level", "warning", "wsgi:app"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/.well-known/openid-configuration")
            browser = requests.Session()
            first = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
                     "scope": "openid profile email", "code_challenge": pkce()[1],
                     "code_challenge_method": "S256"}
            follow(browser, base + "/oidc/authorize?" + urlencode(first),
                   kleidi_form_handler(username, password))
            codes = mint_codes(browser, base + "/oidc/authorize", client_id, count)
            return measure("kleidi", port, "/oidc/token", codes, client_id, secret,
                           concurrency)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


# -- node-oidc-provider -------------------------------------------------------------------


def bench_node(count: int, concurrency: int) -> dict:
    folder = node_env.workdir([ROOT / "bench" / "load.mjs", ROOT / "bench" / "node_op.mjs"])
    port, client_id, secret = free_port(), "bench", secrets.token_urlsafe(32)
    with subprocess.Popen([node_env.node(), str(folder / "node_op.mjs"), str(port), client_id,
                           secret, CALLBACK], cwd=folder, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "ready"
            browser = requests.Session()
            codes = mint_codes(browser, f"http://127.0.0.1:{port}/auth", client_id, count)
            return measure("node-oidc-provider", port, "/token", codes, client_id, secret,
                           concurrency)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def versions() -> dict:
    import authlib

    node = subprocess.run([node_env.node(), "--version"], capture_output=True, text=True,
                          check=False).stdout.strip()
    package = json.loads((ROOT / "tests" / "interop" / "package.json").read_text())
    return {"python": platform.python_version(), "authlib": authlib.__version__, "node": node,
            "oidc-provider": package["dependencies"]["oidc-provider"],
            "cpus": os.cpu_count(), "machine": platform.machine()}


PHASES = ("code_exchange", "refresh")
SERVERS = ("kleidi", "node-oidc-provider")


def median_of(rounds: list[dict], server: str, phase: str) -> dict:
    """The round with the median throughput (its own p50/p99 alongside)."""
    ordered = sorted((r[server][phase] for r in rounds), key=lambda row: row["per_second"])
    return ordered[len(ordered) // 2]


def write(results: dict, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# OIDC token endpoint: requests per second per worker core", "",
        f"{results['when']}: {results['versions']['cpus']} CPUs shared with other work "
        f"(load average {results['load_average'][0]} before, {results['load_average'][1]} "
        f"after); {results['worker']}; Kleidi on {results['kleidi_backend']}; "
        f"{results['requests']} requests per phase, {results['concurrency']} connections; "
        f"median of {len(results['rounds'])} alternating rounds.", "",
        "| server | phase | req/s | p50 ms | p99 ms | errors |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for server in SERVERS:
        for phase in PHASES:
            row = results["median"][server][phase]
            lines.append(f"| {server} | {phase} | {row['per_second']} | {row['p50_ms']} | "
                         f"{row['p99_ms']} | {row['errors']} |")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.requests > 20000 or args.concurrency > 64 or args.rounds > 9:
        parser.error("keep the load bounded: <= 20000 requests, 64 connections, 9 rounds")
    load_before, rounds = os.getloadavg()[0], []
    for _ in range(args.rounds):  # alternate, so both servers see the same machine
        with tempfile.TemporaryDirectory(prefix="kleidi-bench-") as tmp:
            kleidi = bench_kleidi(Path(tmp), args.requests, args.concurrency)
        rounds.append({"kleidi": kleidi,
                       "node-oidc-provider": bench_node(args.requests, args.concurrency)})
    backend = "postgresql" if os.environ.get("KLEIDI_DATABASE_URL") else "sqlite"
    write({
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "requests": args.requests, "concurrency": args.concurrency,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "kleidi_backend": "PostgreSQL + Redis" if backend == "postgresql"
        else "SQLite + in-process store",
        "worker": "gunicorn 1 worker x 4 threads (1 core) vs node 1 process (1 core)",
        "versions": versions(),
        "median": {server: {phase: median_of(rounds, server, phase) for phase in PHASES}
                   for server in SERVERS},
        "rounds": rounds,
    }, f"oidc_tokens-{backend}")


if __name__ == "__main__":
    main()
