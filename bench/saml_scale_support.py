"""The parts of bench/saml_scale.py: SPs, set-up, serving and measuring, the report."""

from __future__ import annotations

import base64
import datetime
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

import saml_sso  # noqa: E402  (client, login, AuthnRequest, CPU of a process)

BENCH_SP = "https://bench-sp.example.org/sp"
FEDERATION = "https://federation.example.org"
SERVER_DESCRIPTION = {"gunicorn": "gunicorn --preload, 1 sync worker, access log",
                      "granian": "kleidi serve (granian), 1 worker, access log"}


# -- Code to compare ---------------------------------------------------------------------------


def checkout(ref: str, work: Path) -> Path:
    path = work / "baseline"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
                   check=True, capture_output=True)
    return path


def remove_checkout(path: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                   check=False, capture_output=True)


def commit_of(path: Path) -> str:
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


# -- The SPs --------------------------------------------------------------------------------------


def make_entities(count: int, work: Path) -> list[str]:
    """`count` eduGAIN-like SP entities, each with a certificate of its own (about 3 KB each)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    entities = []
    for number in range(count):
        host = f"sp{number:05d}.example.org"
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
                .sign(key, hashes.SHA256()))
        body = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        entities.append(entity_xml(host, body))
    return entities


def entity_xml(host: str, cert: str) -> str:
    attributes = "".join(
        f'<md:RequestedAttribute Name="urn:oid:{oid}" isRequired="true"/>'
        for oid in ("1.3.6.1.4.1.5923.1.1.1.6", "1.3.6.1.4.1.5923.1.1.1.9",
                    "0.9.2342.19200300.100.1.3", "2.16.840.1.113730.3.1.241"))
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        'xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" '
        'xmlns:mdrpi="urn:oasis:names:tc:SAML:metadata:rpi" '
        'xmlns:mdattr="urn:oasis:names:tc:SAML:metadata:attribute" '
        f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" entityID="https://{host}/sp">'
        f'<md:Extensions><mdrpi:RegistrationInfo registrationAuthority="{FEDERATION}"/>'
        '<mdattr:EntityAttributes><saml:Attribute Name="http://macedir.org/entity-category" '
        'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"><saml:AttributeValue>'
        "http://refeds.org/category/research-and-scholarship</saml:AttributeValue>"
        "</saml:Attribute></mdattr:EntityAttributes></md:Extensions>"
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<md:Extensions><mdui:UIInfo><mdui:DisplayName xml:lang="en">Service {host}'
        f'</mdui:DisplayName><mdui:DisplayName xml:lang="el">Υπηρεσία {host}</mdui:DisplayName>'
        f'<mdui:Description xml:lang="en">A research service at {host}</mdui:Description>'
        "</mdui:UIInfo></md:Extensions>"
        f"<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="https://{host}/slo"/>'
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>"
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="https://{host}/acs" index="0" isDefault="true"/>'
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="https://{host}/acs2" index="1"/>'
        '<md:AttributeConsumingService index="0"><md:ServiceName xml:lang="en">'
        f"{host}</md:ServiceName>{attributes}</md:AttributeConsumingService>"
        "</md:SPSSODescriptor>"
        f'<md:Organization><md:OrganizationName xml:lang="en">{host}</md:OrganizationName>'
        f'<md:OrganizationDisplayName xml:lang="en">{host}</md:OrganizationDisplayName>'
        f'<md:OrganizationURL xml:lang="en">https://{host}/</md:OrganizationURL>'
        '</md:Organization><md:ContactPerson contactType="technical">'
        f"<md:EmailAddress>mailto:admin@{host}</md:EmailAddress></md:ContactPerson>"
        "</md:EntityDescriptor>")


def aggregate(entities: list[str], key: Path, cert: Path) -> bytes:
    """The signed EntitiesDescriptor of a federation, valid for four days."""
    from lxml import etree
    from saml_support import sign_xml

    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=4)
    root = etree.Element(f"{{{md}}}EntitiesDescriptor", nsmap={"md": md},
                         ID=f"_{secrets.token_hex(16)}",
                         validUntil=until.strftime("%Y-%m-%dT%H:%M:%SZ"))
    for xml in entities:
        root.append(etree.fromstring(xml.encode()))
    return sign_xml(etree.tostring(root), key, cert).encode()


# -- Set-up: two configurations per size, the same SPs ------------------------------------------


def env_for(config: Path, port: int = 5000) -> dict:
    return {**os.environ, "KLEIDI_ENV": "development",
            "KLEIDI_KEYS_DIR": str(config.parent / "keys"),
            "KLEIDI_DATABASE_URL": f"sqlite:///{config / 'bench.sqlite3'}",
            "KLEIDI_METADATA_DIR": str(config / "metadata"),
            "KLEIDI_BASE_URL": f"http://127.0.0.1:{port}", "KLEIDI_LOG_LEVEL": "WARNING",
            "KLEIDI_OUTBOX_INPROCESS_WORKER": "false"}


def prepare(folder: Path, entities: list[str]) -> dict:
    """`folder`/federation (SPs as a federation source) and `folder`/file (as a file)."""
    from saml_support import make_keypair

    folder.mkdir(parents=True)
    (folder / "keys").mkdir()
    key, cert = make_keypair(folder, "federation")
    # the SP logged into is a member like any other, half-way down the aggregate (pysaml2
    # looked at each SP's source in turn: the first one would have been found at once)
    members = [*entities[:len(entities) // 2], saml_sso.sp_metadata(BENCH_SP, None),
               *entities[len(entities) // 2:]]
    (folder / "aggregate.xml").write_bytes(aggregate(members, key, cert))
    setup = {"username": "bench0001", "password": secrets.token_urlsafe(16), "sp": BENCH_SP,
             "aggregate": str(folder / "aggregate.xml"), "cert": str(cert)}
    for kind in ("federation", "file"):
        config = folder / kind
        (config / "metadata").mkdir(parents=True)
        if kind == "file":
            (config / "metadata" / "federation.xml").write_bytes(
                (folder / "aggregate.xml").read_bytes())
        subprocess.run([sys.executable, __file__, "prepare", str(config), json.dumps(setup)],
                       cwd=ROOT, env=env_for(config), check=True)
        if kind == "federation":
            kleidi(config, "metadata", "source", "add", "fed", "--file", setup["aggregate"],
                   "--cert", setup["cert"])
    return setup


def kleidi(config: Path, *args: str) -> str:
    return subprocess.run([str(Path(sys.executable).parent / "kleidi"), *args], cwd=ROOT,
                          env=env_for(config), check=True, capture_output=True,
                          text=True).stdout


def prepare_database(config: Path, setup: dict) -> None:
    """In a child process: database, one person with a password, the bench SP's policy."""
    from datetime import date

    from idp import consent, create_app, db, migrate
    from idp.identity import accounts, identifiers
    from idp.identity.models import Account, Affiliation, Person
    from idp.saml import registrations

    app = create_app()
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
        account = Account(person_id=person.id, username=setup["username"], domain="example.edu",
                          kind="personal", status="active")
        session.add(account)
        session.flush()
        accounts.set_password(account, setup["password"], actor="bench")
        registrations.set_policy(setup["sp"], attributes=release, actor="bench")
        consent.grant(account, setup["sp"], release)
        session.commit()


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "prepare":
    prepare_database(Path(sys.argv[2]), json.loads(sys.argv[3]))
    sys.exit(0)


# -- Serving and measuring over HTTP ------------------------------------------------------------


def server_of(code: Path) -> str:
    """The production server of `code`: granian through ``kleidi serve``, or gunicorn."""
    return "granian" if "granian" in (code / "idp" / "serve.py").read_text() else "gunicorn"


#: The core every server runs on (``taskset``); the benchmark's own process, which generates
#: the load, keeps to the other (see saml_scale.main).
SERVER_CORE = int(os.environ.get("SERVER_CORE", "1"))


def start(code: Path, config: Path, port: int) -> subprocess.Popen:
    env = {**env_for(config, port), "PYTHONPATH": str(code)}
    if server_of(code) == "granian":
        command = [sys.executable, "-c", "from idp.cli import main; main()", "serve",
                   "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    else:  # the README's production command until granian
        command = [str(Path(sys.executable).parent / "gunicorn"), "--preload", "--workers", "1",
                   "--access-logfile", "-", "--timeout", "60", "--bind", f"127.0.0.1:{port}",
                   "--log-level", "warning", "wsgi:app"]
    command = ["taskset", "-c", str(SERVER_CORE), *command]  # exec's: the pid is the server's
    return subprocess.Popen(command, cwd=code, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


_GAUGE = """
import time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
count, start = 0, time.thread_time()
while time.thread_time() - start < 2.0:
    key.sign(b"x" * 512, padding.PKCS1v15(), hashes.SHA256())
    count += 1
print(count / (time.thread_time() - start))
"""


def rsa_gauge() -> float:
    """RSA-2048 signatures per CPU-second on the servers' core: how fast the machine is at the
    time (on a shared machine it drifts by up to 2x within minutes). A Response costs two."""
    return float(subprocess.run(["taskset", "-c", str(SERVER_CORE), sys.executable, "-c", _GAUGE],
                                check=True, capture_output=True, text=True).stdout)


def serve_and_measure(code: Path, config: Path, setup: dict, requests: int) -> dict:
    port = saml_sso.free_port()
    launched = time.perf_counter()
    process = start(code, config, port)
    try:
        saml_sso.wait_until_up(port, process)
        cookie = saml_sso.log_in(port, setup["username"], setup["password"])
        first = time.perf_counter()
        status, body = saml_sso.Client(port, cookie).request(
            "GET", saml_sso.authn_request_path(port, setup["sp"]))
        done = time.perf_counter()
        assert status == 200 and 'name="SAMLResponse"' in body, (status, body[:300])
        figures = {"launch_to_first_sso_s": done - launched, "first_sso_ms": 1000 * (done - first)}
        figures.update(steady(port, cookie, process.pid, setup["sp"], requests))
        return figures
    finally:
        process.terminate()
        process.wait(timeout=60)


def steady(port: int, cookie: str, master: int, sp: str, requests: int) -> dict:
    worker = saml_sso.worker_pid(master)
    saml_sso.run_scenario(port, cookie, sp, 200, 2, time.monotonic() + 60)  # warm-up
    before = saml_sso.cpu_seconds(worker)
    run = saml_sso.run_scenario(port, cookie, sp, requests, 2, time.monotonic() + 120)
    cpu = saml_sso.cpu_seconds(worker) - before
    assert run["failures"] == 0, run
    return {"cpu_ms_per_response": 1000 * cpu / run["responses"],
            "responses_per_cpu_second": run["responses"] / cpu,
            "p50_ms": run["p50_ms"], "p99_ms": run["p99_ms"],
            **memory(worker, "worker"), **memory(master, "master")}


def memory(pid: int, who: str) -> dict:
    """RSS, PSS (shared pages divided among their users) and private memory, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {f"{who}_rss_mb": fields["Rss"], f"{who}_pss_mb": fields["Pss"],
            f"{who}_private_mb": private}


def during_refresh(code: Path, config: Path, setup: dict, entities: list[str]) -> dict:
    """Latencies while `kleidi metadata refresh` replaces the aggregate (one SP more)."""
    port = saml_sso.free_port()
    process = start(code, config, port)
    try:
        saml_sso.wait_until_up(port, process)
        cookie = saml_sso.log_in(port, setup["username"], setup["password"])
        samples, stop = [], threading.Event()
        thread = threading.Thread(target=_sample, args=(port, cookie, setup["sp"], samples, stop))
        thread.start()
        time.sleep(3)
        key, cert = Path(setup["cert"]).with_suffix(".key"), Path(setup["cert"])
        extra = entity_xml("newcomer.example.org", entities[0].split(
            "<ds:X509Certificate>")[1].split("<")[0])
        members = [*entities, saml_sso.sp_metadata(BENCH_SP, None), extra]
        Path(setup["aggregate"]).write_bytes(aggregate(members, key, cert))
        changed = time.perf_counter()
        kleidi(config, "metadata", "refresh", "fed")
        refreshed = time.perf_counter()
        visible = _wait_known(port, cookie, "https://newcomer.example.org/sp")
        time.sleep(2)
        stop.set()
        thread.join()
    finally:
        process.terminate()
        process.wait(timeout=60)
    return _window(samples, changed, refreshed, visible)


def _sample(port, cookie, sp, samples, stop) -> None:
    client = saml_sso.Client(port, cookie)
    while not stop.is_set():
        start = time.perf_counter()
        status, _body = client.request("GET", saml_sso.authn_request_path(port, sp))
        samples.append((start, time.perf_counter() - start, status))


def _wait_known(port, cookie, entity_id: str, seconds: float = 60) -> float:
    client, deadline = saml_sso.Client(port, cookie), time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, body = client.request("GET", f"/saml/sso/init?sp={entity_id}")
        if "SAML-001" not in body:
            return time.perf_counter()
        time.sleep(0.05)
    raise RuntimeError("the new SP never became known")


def _window(samples, changed, refreshed, visible) -> dict:
    before = sorted(d for t, d, _s in samples if t < changed)
    during = sorted(d for t, d, _s in samples if changed <= t <= visible + 0.5)
    return {"refresh_command_s": refreshed - changed, "visible_after_s": visible - changed,
            "before": _latencies(before), "during": _latencies(during),
            "errors": sum(1 for _t, _d, s in samples if s != 200)}


def _latencies(values: list[float]) -> dict:
    if not values:
        return {}
    return {"count": len(values), "p50_ms": 1000 * values[len(values) // 2],
            "p99_ms": 1000 * values[min(len(values) - 1, int(len(values) * 0.99))],
            "max_ms": 1000 * values[-1]}


# -- In process: the directory's start-up, memory and look-ups ----------------------------------


def in_process(config: Path) -> dict:
    """In a child process with `config`'s environment (see saml_scale.in_process_child)."""
    import random

    from saml2 import BINDING_HTTP_POST

    from idp import create_app
    from idp.saml import directory, server

    app = create_app()
    before = _rss_mb()
    started = time.perf_counter()
    directory.prepare(app)
    built = time.perf_counter() - started
    grown = _rss_mb() - before
    with app.test_request_context():
        index = directory.current().current()
        chosen = random.sample(sorted(index.providers), min(1000, len(index.providers)))
        find_us = _per_call_us(lambda: [directory.find(e) for e in chosen], len(chosen), 50)
        acs = server.server().metadata.assertion_consumer_service
        acs_us = _per_call_us(lambda: [acs(e, BINDING_HTTP_POST) for e in chosen],
                              len(chosen), 10)
    app.extensions[directory.EXTENSION].stop()
    return {"sps": len(index.providers), "start_up_s": built, "index_rss_mb": grown,
            "find_us": find_us, "pysaml2_acs_lookup_us": acs_us}


def _per_call_us(run, calls: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, (time.perf_counter() - started) / calls)
    return best * 1e6


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
