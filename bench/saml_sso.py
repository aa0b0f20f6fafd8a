"""SAML SSO throughput: AuthnRequest -> signed Response cycles with an established session.

Serves Kleidi as one worker of the production command (``kleidi serve``: granian, one thread,
an access log line per request; ``--server gunicorn``: the previous one, gunicorn's sync
worker), pinned to core SERVER_CORE (default 1) while this process, which sends the requests,
keeps to the others, on 127.0.0.1 with a throw-away database, keys and SP metadata, logs one
person in once, then
sends HTTP-Redirect AuthnRequests (each with a fresh ID) and checks that every answer is a
POST-binding page with a SAMLResponse. Reports responses per second of worker CPU time (per
core) and wall-clock, p50/p99 latency, the raw RSA-2048 signing rate measured in the same run
and the load average around it; writes bench/results/saml_sso.json. Bounded: --requests per
scenario and --seconds at most.

    .venv/bin/python bench/saml_sso.py [--requests 3000] [--seconds 60] [--clients 2]
                                       [--server granian|gunicorn]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "saml_sso.json"
SERVER_CORE = int(os.environ.get("SERVER_CORE", "1"))
# Each with an access log line per request (its cost is part of the figure).
SERVERS = {
    "granian": lambda port: [str(Path(sys.executable).parent / "kleidi"), "serve", "--host",
                             "127.0.0.1", "--port", str(port), "--workers", "1"],
    "gunicorn": lambda port: [str(Path(sys.executable).parent / "gunicorn"), "--workers", "1",
                              "--timeout", "30", "--access-logfile", "-", "--bind",
                              f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
}
SERVER_DESCRIPTION = {"granian": "kleidi serve (granian), 1 worker, 1 thread, access log",
                      "gunicorn": "gunicorn, 1 sync worker, access log"}
SPS = {"plain": "https://bench-sp.example.org/sp", "encrypted": "https://bench-enc.example.org/sp"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(folder: Path, port: int) -> dict:
    return {**os.environ, "KLEIDI_ENV": "development", "KLEIDI_KEYS_DIR": str(folder / "keys"),
           # its own SQLite file: a benchmark never writes into a shared database
           "KLEIDI_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
           "KLEIDI_METADATA_DIR": str(folder / "metadata"),
           "KLEIDI_BASE_URL": f"http://127.0.0.1:{port}", "KLEIDI_LOG_LEVEL": "WARNING",
           "KLEIDI_STORE_PREFIX": f"kleidi-bench:{secrets.token_hex(4)}:"}


def sp_metadata(entity_id: str, encryption_cert: str | None) -> str:
    key = (f'<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
           f"{encryption_cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
           if encryption_cert else "")
    acs = entity_id.replace("/sp", "/acs")
    return (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
            '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f'{key}<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:'
            f'HTTP-POST" Location="{acs}" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>')


def prepare(folder: Path, env: dict) -> tuple[str, str]:
    """Database, keys, two SPs with policy and consent, one person; returns credentials."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from datetime import date

    from idp import consent, create_app, db, migrate
    from idp.identity import accounts, identifiers
    from idp.identity.models import Account, Affiliation, Person
    from idp.saml import registrations

    app = create_app()
    (folder / "metadata").mkdir()
    cert = "".join((folder / "keys" / "saml-encryption.crt").read_text().splitlines()[1:-1])
    (folder / "metadata" / "plain.xml").write_text(sp_metadata(SPS["plain"], None))
    (folder / "metadata" / "enc.xml").write_text(sp_metadata(SPS["encrypted"], cert))
    username, password = "bench0001", secrets.token_urlsafe(16)
    release = ["pairwise_id", "eppn", "display_name", "scoped_affiliation", "email"]
    with app.app_context():
        migrate.upgrade()
        session = db.session()
        person = Person(academic_id=identifiers.new_academic_id(), given_name_el="Άννα",
                        family_name_el="Βενχ", given_name_en="Anna", family_name_en="Bench",
                        birth_date=date(2000, 1, 1))
        session.add(person)
        session.flush()
        session.add(Affiliation(person_id=person.id, role="undergraduate", department_id="1512",
                                registration_id="00000001", source_registry="students"))
        account = Account(person_id=person.id, username=username, domain="example.edu",
                          kind="personal", status="active")
        session.add(account)
        session.flush()
        accounts.set_password(account, password, actor="bench")
        for entity_id in SPS.values():
            registrations.set_policy(entity_id, attributes=release, actor="bench")
            consent.grant(account, entity_id, release)
        session.commit()
    return username, password


class Client:
    """One keep-alive connection carrying the session cookie."""

    def __init__(self, port: int, cookie: str = ""):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = cookie

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith("kleidi_session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, data


def log_in(port: int, username: str, password: str) -> str:
    client = Client(port)
    _status, page = client.request("GET", "/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    status, _ = client.request("POST", "/login", urlencode(
        {"csrf_token": token, "username": username, "password": password, "i": ""}))
    assert status in (302, 303), f"login failed: {status}"  # 303 since the usability work
    return client.cookie


def authn_request_path(port: int, sp: str) -> str:
    instant = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (f'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
           f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_{secrets.token_hex(16)}" '
           f'Version="2.0" IssueInstant="{instant}" '
           f'Destination="http://127.0.0.1:{port}/saml/sso/redirect">'
           f"<saml:Issuer>{sp}</saml:Issuer></samlp:AuthnRequest>")
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(xml.encode()) + deflater.flush()
    return "/saml/sso/redirect?" + urlencode({"SAMLRequest": base64.b64encode(raw).decode(),
                                             "RelayState": "bench"})


def run_scenario(port: int, cookie: str, sp: str, requests: int, clients: int,
                 deadline: float) -> dict:
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()
    per_client = requests // clients

    def worker():
        client = Client(port, cookie)
        for _ in range(per_client):
            if time.monotonic() > deadline:
                return
            path = authn_request_path(port, sp)
            start = time.perf_counter()
            status, body = client.request("GET", path)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if status != 200 or 'name="SAMLResponse"' not in body:
                    failures.append(status)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"responses": len(latencies), "failures": len(failures), "wall_seconds": wall,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def floor_cpu_ms(port: int, cookie: str, worker: int, count: int = 500) -> float:
    """Worker CPU per request of a trivial endpoint (/healthz) with the same session cookie."""
    client, before = Client(port, cookie), cpu_seconds(worker)
    for _ in range(count):
        client.request("GET", "/healthz")
    return 1000 * (cpu_seconds(worker) - before) / count


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no worker process")


def raw_signing_rate(key_path: Path, seconds: float = 2.0) -> float:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        key.sign(b"x" * 512, padding.PKCS1v15(), hashes.SHA256())
        count += 1
    return count / (time.perf_counter() - start)


def check_signature(port: int, cookie: str, folder: Path) -> bool:
    """One response, verified with python3-saml's own routine against the IdP certificate."""
    from onelogin.saml2.utils import OneLogin_Saml2_Utils

    _status, body = Client(port, cookie).request("GET", authn_request_path(port, SPS["plain"]))
    xml = base64.b64decode(re.search(r'name="SAMLResponse" value="([^"]+)"', body).group(1))
    cert = (folder / "keys" / "saml-signing.crt").read_text()
    return bool(OneLogin_Saml2_Utils.validate_sign(
        xml, cert, xpath="/samlp:Response/saml:Assertion/ds:Signature"))


def wait_until_up(port: int, process) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--server", choices=SERVERS, default="granian")
    args = parser.parse_args()
    folder, port = Path(tempfile.mkdtemp(prefix="kleidi-bench-")), free_port()
    env = environment(folder, port)
    username, password = prepare(folder, env)
    os.sched_setaffinity(0, (os.sched_getaffinity(0) - {SERVER_CORE}) or os.sched_getaffinity(0))
    process = subprocess.Popen(["taskset", "-c", str(SERVER_CORE), *SERVERS[args.server](port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_until_up(port, process)
        results = measure(port, process.pid, username, password, folder, args)
    finally:
        process.terminate()
        process.wait(timeout=30)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0 if all(s["failures"] == 0 for s in results["scenarios"].values()) else 1


def measure(port, master, username, password, folder, args) -> dict:
    load_before = round(os.getloadavg()[0], 2)  # other work on the machine skews every figure
    cookie = log_in(port, username, password)
    worker = worker_pid(master)
    run_scenario(port, cookie, SPS["plain"], 200, args.clients, time.monotonic() + 30)  # warm-up
    scenarios = {}
    for name, sp in SPS.items():
        before = cpu_seconds(worker)
        figures = run_scenario(port, cookie, sp, args.requests, args.clients,
                               time.monotonic() + args.seconds)
        cpu = cpu_seconds(worker) - before
        figures.update(worker_cpu_seconds=cpu, cpu_ms_per_response=1000 * cpu / figures["responses"],
                       responses_per_second_wall=figures["responses"] / figures["wall_seconds"],
                       responses_per_worker_core_second=figures["responses"] / cpu if cpu else None)
        scenarios[name] = figures
    return {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_1m_before": load_before,
                    "load_average_1m_after": round(os.getloadavg()[0], 2)},
        "setup": {"server": SERVER_DESCRIPTION[args.server], "server_core": SERVER_CORE,
                  "clients": args.clients,
                  "binding": "HTTP-Redirect AuthnRequest -> HTTP-POST Response",
                  "signature": "Response and assertion signed, RSA-2048, RSA-SHA256, in process",
                  "database": "SQLite (a file of this run)",
                  "store": "Redis" if os.environ.get("KLEIDI_REDIS_URL") else "in-process"},
        "response_signature_verified_by_python3_saml": check_signature(port, cookie, folder),
        "raw_rsa2048_sign_per_second": raw_signing_rate(folder / "keys" / "saml-signing.key"),
        "trivial_endpoint_cpu_ms_per_request": floor_cpu_ms(port, cookie, worker),
        "scenarios": scenarios,
        "target_responses_per_worker_core_second": 300,
    }


if __name__ == "__main__":
    sys.exit(main())
