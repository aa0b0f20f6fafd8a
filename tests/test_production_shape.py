"""The production shape, as deploy/ ships it: Debian's nginx in front of two `kleidi serve`
instances (ENV=production, TLS at nginx) on a PostgreSQL cluster and a Redis server of the
test's own. A browser's consecutive requests go to alternate instances; the session, a PIN, a
SAML interaction and an OIDC code cross them; a key rotation reaches both; stopping Redis or
PostgreSQL gives the coded 503 through nginx, and both recover without a restart.

It takes a minute or two (two instances of two workers start); CI runs it with the rest."""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import time
from contextlib import ExitStack
from datetime import date
from email import message_from_bytes
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from aiosmtpd.controller import Controller
from joserfc import jwt
from joserfc.jwk import KeySet
from oidc_support import REDIRECT, auth_params, pkce
from private_services import free_port, private_postgres, private_redis
from production_shape import KLEIDI, Browser, environment, instances, nginx, tls_certificate
from saml_sp import IndependentSP, set_policy

from idp import create_app, db, keys
from idp.identity import accounts, identifiers
from idp.identity.models import Account, Affiliation, Person, RegistryRecord
from idp.oidc import clients

PASSWORD = "a quiet walk by the sea"
CONSENT = re.compile(r'name="decision"')


class Mailbox:
    """An SMTP server's inbox (aiosmtpd handler)."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def shape(tmp_path_factory):
    """Everything running; yields what the tests need to drive it."""
    folder = tmp_path_factory.mktemp("shape")
    with ExitStack() as stack:
        postgres = stack.enter_context(private_postgres())
        store = stack.enter_context(private_redis())
        mailbox = Mailbox()
        smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
        smtp.start()
        stack.callback(smtp.stop)
        keys_dir, metadata = folder / "keys", folder / "metadata"
        keys.ensure_dev_keys(keys_dir)
        metadata.mkdir()
        cert, key = tls_certificate(folder)
        port, upstreams = free_port(), [free_port(), free_port()]
        public = f"https://127.0.0.1:{port}"
        settings = {
            "ENV": "production", "BASE_URL": public, "DATABASE_URL": postgres.url,
            "REDIS_URL": store.url, "SECRET_KEY": secrets.token_urlsafe(32),
            "PAIRWISE_SECRET": secrets.token_urlsafe(32),
            "MFA_SECRET_KEY": secrets.token_urlsafe(32), "KEYS_DIR": str(keys_dir),
            "METADATA_DIR": str(metadata), "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
            "SMS_HTTP_URL": f"http://127.0.0.1:{free_port()}/sms", "PROXY_COUNT": "1",
            "SAML_METADATA_CHECK_SECONDS": "1", "OIDC_CLIENT_CACHE_SECONDS": "0",
            "METRICS_TOKEN": "metrics-" + secrets.token_hex(8)}
        env = environment(**settings)
        for command in (["init"], ["keys", "rotate"]):
            done = subprocess.run([str(KLEIDI), *command], env=env, capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        admin = create_app({**{k: v for k, v in settings.items() if k not in ("PROXY_COUNT",)},
                            "ENV": "testing", "PROXY_COUNT": 1, "REDIS_URL": "",
                            "SAML_METADATA_CHECK_SECONDS": 1, "OIDC_CLIENT_CACHE_SECONDS": 0})
        stack.callback(lambda: _close(admin))
        started = stack.enter_context(instances(upstreams, env, folder))
        stack.enter_context(nginx(folder, port, upstreams, cert, key))
        yield {"public": public, "cert": cert, "a": started[0].base, "b": started[1].base,
               "instances": started, "admin": admin, "env": env, "postgres": postgres,
               "store": store, "mailbox": mailbox, "keys_dir": keys_dir, "metadata": metadata,
               "folder": folder, "settings": settings}


def _close(app) -> None:
    with app.app_context():
        db.dispose()


def make_account(admin) -> str:
    username = f"user{secrets.token_hex(4)}"
    with admin.app_context():
        session = db.session()
        person = Person(academic_id=identifiers.new_academic_id(), given_name_el="Μαρία",
                        family_name_el="Παπαδοπούλου", given_name_en="Maria",
                        family_name_en="Papadopoulou", birth_date=date(2001, 5, 17))
        session.add(person)
        session.flush()
        session.add(Affiliation(person_id=person.id, role="undergraduate", department_id="1512",
                                registration_id=secrets.token_hex(4), source_registry="students"))
        account = Account(person_id=person.id, username=username, domain="example.edu",
                          kind="personal", status="active")
        session.add(account)
        session.flush()
        accounts.set_password(account, PASSWORD, actor="test")
        session.commit()
    return username


def walk(browser: Browser, response, vias: list[str], username: str, stop_at: str):
    """Follow the IdP like a person (login form, consent), each request to the next instance in
    turn; the last response (a redirect to ``stop_at`` or a page that posts to an SP)."""
    turn = 0
    for _ in range(16):
        via = vias[turn % len(vias)]
        turn += 1
        if response.is_redirect:
            target = response.headers["Location"]
            if target.startswith(stop_at):
                return response
            response = browser.get(target, via)
            continue
        assert response.status_code == 200, response.text[:800]
        if "SAMLResponse" in response.text:
            return response
        path = urlsplit(response.url).path + (f"?{urlsplit(response.url).query}"
                                              if urlsplit(response.url).query else "")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.text)
        if CONSENT.search(response.text):
            fields = {"decision": "accept"}
        else:
            fields = {"username": username, "password": PASSWORD,
                      "i": parse_qs(urlsplit(response.url).query)["i"][0]}
        action = re.search(r'<form method="post" action="([^"]+)"', response.text).group(1)
        del path
        response = browser.post(action, {"csrf_token": token.group(1), **fields}, via)
    raise AssertionError("never arrived")


def code_flow(shape, browser: Browser, client_id: str, secret: str, username: str) -> dict:
    """Authorization through alternate instances, the code redeemed at instance B."""
    verifier, challenge = pkce()
    params = auth_params(client_id, challenge)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    first = browser.get("/oidc/authorize?" + query, shape["a"])
    back = walk(browser, first, [shape["b"], shape["a"]], username, REDIRECT)
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token = browser.post("/oidc/token", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier}, shape["b"], headers={"Authorization": "Basic " + basic})
    assert token.status_code == 200, token.text
    return token.json()


def register_client(shape) -> tuple[str, str]:
    with shape["admin"].app_context():
        row, secret = clients.add_client(redirect_uris=[REDIRECT],
                                         scopes=["openid", "profile", "email"])
        db.session().commit()
        return row.client_id, secret


def test_a_session_crosses_instances(shape):
    username = make_account(shape["admin"])
    browser = Browser(shape["public"], shape["cert"])
    page = browser.form("/login", {"username": username, "password": PASSWORD, "i": ""},
                        via=shape["a"], post_via=shape["b"])
    assert page.status_code == 303
    for via in (shape["a"], shape["b"], None):
        home = browser.get("/", via)
        assert home.status_code == 200 and username in home.text


def test_a_saml_interaction_crosses_instances(shape):
    username = make_account(shape["admin"])
    browser = Browser(shape["public"], shape["cert"])
    idp_metadata = browser.get("/saml/metadata").text
    sp = IndependentSP("sp.example.org", idp_metadata, shape["folder"])
    (shape["metadata"] / "sp.xml").write_text(sp.metadata())
    set_policy(shape["admin"], sp.entity_id, attributes=["eppn", "display_name"])
    deadline = time.monotonic() + 20
    while True:  # both instances re-read METADATA_DIR every second
        request = urlsplit(sp.login_redirect())
        first = browser.get(f"{request.path}?{request.query}", shape["a"])
        if first.status_code == 303 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    page = walk(browser, first, [shape["b"], shape["a"]], username, "https://sp.example.org")
    auth = sp.accept(page.content)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_attributes()["urn:oid:1.3.6.1.4.1.5923.1.1.1.6"] == [
        f"{username}@example.edu"]


def test_an_oidc_code_crosses_instances(shape):
    username = make_account(shape["admin"])
    client_id, secret = register_client(shape)
    browser = Browser(shape["public"], shape["cert"])
    tokens = code_flow(shape, browser, client_id, secret, username)
    jwks = KeySet.import_key_set(browser.get("/oidc/jwks", shape["a"]).json())
    claims = jwt.decode(tokens["id_token"], jwks, algorithms=["RS256", "ES256"]).claims
    assert claims["iss"] == shape["public"] and client_id in claims["aud"]


def test_a_pin_crosses_instances(shape):
    registration = f"{secrets.randbelow(10**8):08d}"
    with shape["admin"].app_context():
        db.session().add(RegistryRecord(
            source_registry="students", department_id="1512", registration_id=registration,
            first_name_el="Ελένη", last_name_el="Νικολάου", first_name_en="Eleni",
            last_name_en="Nikolaou", birth_date=date(2004, 3, 9), mobile_phone="+306912345678",
            ext_email=f"eleni.{registration}@example.org", enrollment_status="active",
            enrollment_type="undergraduate", role="undergraduate",
            inscription_ac_year="2025-2026"))
        db.session().commit()
    browser = Browser(shape["public"], shape["cert"])
    started = browser.form("/activate/", {"role": "student"}, via=shape["a"],
                           post_via=shape["b"])
    flow = started.headers["Location"].rsplit("/", 1)[0]
    identified = browser.form(f"{flow}/identify", {
        "registration_id": registration, "mobile": "", "email": f"eleni.{registration}@example.org",
        "tin": "", "tin_country": "GR"}, via=shape["b"], post_via=shape["a"])
    assert identified.headers["Location"].endswith("/pin"), identified.text[:500]
    worker = subprocess.run([str(KLEIDI), "worker", "--once"], env=shape["env"],
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    sent = [m for m in shape["mailbox"].messages if m["To"] == f"eleni.{registration}@example.org"]
    body = sent[-1].get_payload(decode=True) if not sent[-1].is_multipart() else \
        sent[-1].get_payload(0).get_payload(decode=True)
    pin = re.search(rb"(?<!\d)(\d{6})(?!\d)", body).group(1).decode()
    verified = browser.form(f"{flow}/pin", {"pin": pin, "action": "verify"}, via=shape["a"],
                            post_via=shape["b"])
    assert verified.status_code == 303
    assert not verified.headers["Location"].endswith("/pin")


def _current_kid(keys_dir, alg: str = "RS256") -> str:
    manifest = json.loads((keys_dir / "oidc-keys.json").read_text())["keys"]
    return next(e["kid"] for e in manifest if e["alg"] == alg and e["state"] == "current")


def test_a_key_rotation_reaches_both_instances(shape):
    username = make_account(shape["admin"])
    client_id, secret = register_client(shape)
    browser = Browser(shape["public"], shape["cert"])
    before = _current_kid(shape["keys_dir"])
    rotated = subprocess.run([str(KLEIDI), "keys", "rotate"], env=shape["env"],
                             capture_output=True, text=True, timeout=60)
    assert rotated.returncode == 0, rotated.stderr
    after = _current_kid(shape["keys_dir"])
    assert after != before
    for via in (shape["a"], shape["b"]):
        published = {key["kid"] for key in browser.get("/oidc/jwks", via).json()["keys"]}
        assert {before, after} <= published
    tokens = code_flow(shape, browser, client_id, secret, username)
    header = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[0] + "=="))
    assert header["kid"] == after


def _until_not_503(browser: Browser, path: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while True:
        response = browser.get(path)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.3)


def test_redis_then_postgresql_stopped_give_the_coded_503_through_nginx(shape):
    username = make_account(shape["admin"])
    browser = Browser(shape["public"], shape["cert"])
    shape["store"].stop()
    try:
        for language, title in (("el", "Η υπηρεσία είναι προσωρινά μη διαθέσιμη"),
                                ("en", "Service temporarily unavailable")):
            page = browser.get("/login", headers={"Accept-Language": language})
            assert page.status_code == 503 and page.headers["Retry-After"] == "30"
            assert "GEN-007" in page.text and title in page.text
        ready = browser.get("/readyz", shape["a"])
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "store": "unreachable"}
    finally:
        shape["store"].start()
    assert _until_not_503(browser, "/login").status_code == 200

    assert browser.form("/login", {"username": username, "password": PASSWORD, "i": ""}) \
        .status_code == 303
    shape["postgres"].stop()
    try:
        page = browser.get("/", headers={"Accept-Language": "en"})
        assert page.status_code == 503 and "GEN-007" in page.text
        token = browser.post("/oidc/token", {"grant_type": "authorization_code", "code": "x",
                                             "redirect_uri": REDIRECT, "client_id": "x"})
        assert token.status_code == 503
        assert token.json()["error"] == "temporarily_unavailable"
        assert browser.get("/readyz", shape["b"]).json()["checks"]["database"] == "unreachable"
    finally:
        shape["postgres"].start()
    assert _until_not_503(browser, "/").status_code == 200
    for instance in shape["instances"]:
        log = instance.log.read_text()
        assert "Request finalizing failed" not in log
        assert "Traceback" not in log, log[log.find("Traceback") - 1500:][:4000]


def test_metrics_add_up_the_workers_of_an_instance(shape):
    from prometheus_client.parser import text_string_to_metric_families

    token = shape["settings"]["METRICS_TOKEN"]
    for _ in range(20):
        assert requests.get(shape["a"] + "/healthz", timeout=10).status_code == 200
    for _ in range(3):  # whichever worker answers the scrape reads every worker's counts
        text = requests.get(shape["a"] + "/metrics", timeout=10,
                            headers={"Authorization": f"Bearer {token}"}).text
        counted = sum(sample.value for family in text_string_to_metric_families(text)
                      for sample in family.samples
                      if sample.name == "kleidi_http_requests_total"
                      and sample.labels["endpoint"] == "ops.healthz")
        assert counted >= 20
    assert requests.get(shape["a"] + "/metrics", timeout=10).status_code == 404
    # nginx does not pass /metrics on to the public
    assert Browser(shape["public"], shape["cert"]).get(
        "/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 403
