"""Kleidi as deploy/ ships it: Debian's nginx (deploy/nginx/kleidi.conf) in front of two
instances started by the command of deploy/systemd/kleidi@.service, and a browser that can
be sent through nginx or pinned to one instance (as if nginx had chosen it)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from private_services import free_port

from idp.config import ROOT

NGINX = "/usr/sbin/nginx"
KLEIDI = Path(sys.executable).parent / "kleidi"
DEPLOY = ROOT / "deploy"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def tls_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test's idp host)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "tls.pem", folder / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def serve_command(port: int) -> list[str]:
    """The ExecStart of deploy/systemd/kleidi@.service for instance ``port``."""
    unit = (DEPLOY / "systemd" / "kleidi@.service").read_text()
    line = re.search(r"^ExecStart=(.+)$", unit, re.M).group(1)
    words = shlex.split(line.replace("%i", str(port)))
    assert words[0] == "/opt/kleidi/.venv/bin/kleidi", words
    return [str(KLEIDI), *words[1:]]


class Instance:
    """One ``kleidi serve`` (its own workers) on a loopback port."""

    def __init__(self, port: int, env: dict, folder: Path):
        self.port, self.base = port, f"http://127.0.0.1:{port}"
        self.log = folder / f"instance-{port}.log"
        metrics = folder / f"metrics-{port}"
        metrics.mkdir()
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                serve_command(port), env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
                stdout=out, stderr=subprocess.STDOUT)

    def wait(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                requests.get(self.base + "/healthz", timeout=5)
                return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise AssertionError(f"instance {self.port} did not answer")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def nginx_config(folder: Path, port: int, upstreams: list[int], cert: Path, key: Path) -> Path:
    """deploy/nginx/kleidi.conf with the test's ports and certificate, in a main config."""
    site = (DEPLOY / "nginx" / "kleidi.conf").read_text()
    replacements = {"server 127.0.0.1:8001": f"server 127.0.0.1:{upstreams[0]}",
                    "server 127.0.0.1:8002": f"server 127.0.0.1:{upstreams[1]}",
                    "listen 443 ssl http2;": f"listen 127.0.0.1:{port} ssl http2;",
                    "listen 80;": f"listen 127.0.0.1:{free_port()};",
                    "/etc/ssl/certs/idp.example.edu.pem": str(cert),
                    "/etc/ssl/private/idp.example.edu.key": str(key)}
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    (folder / "kleidi.conf").write_text(site)
    temp = folder / "nginx-temp"
    temp.mkdir()
    main = folder / "nginx.conf"
    main.write_text(f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log info;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {folder}/nginx-access.log upstream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder}/kleidi.conf;
}}
""")
    return main


@contextmanager
def nginx(folder: Path, port: int, upstreams: list[int], cert: Path, key: Path):
    main = nginx_config(folder, port, upstreams, cert, key)
    check = subprocess.run([NGINX, "-t", "-e", "stderr", "-p", str(folder), "-c", str(main)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-e", "stderr", "-p", str(folder), "-c", str(main)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert time.monotonic() < deadline and process.poll() is None, "nginx did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def instances(ports: list[int], env: dict, folder: Path):
    with ExitStack() as stack:
        started = [Instance(port, env, folder) for port in ports]
        for instance in started:
            stack.callback(instance.stop)
        for instance in started:
            instance.wait()
        yield started


class Browser:
    """A browser of the public site (BASE_URL, through nginx), whose requests may be sent to one
    instance instead: with the Host, the forwarded scheme and the cookies a request through
    nginx would have, so the instance answers exactly as behind nginx."""

    def __init__(self, public: str, cert: Path):
        self.public, self.cert = public, cert
        self.cookies: dict[str, str] = {}
        self.http = requests.Session()

    def request(self, method: str, url: str, via: str | None = None, **kwargs):
        parts = urlsplit(urljoin(self.public, url))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "Referer": self.public + parts.path, **kwargs.pop("headers", {})}
        if via is None:
            target, verify = self.public + path, str(self.cert)
        else:
            target, verify = via + path, True
            headers.update({"Host": urlsplit(self.public).netloc, "X-Forwarded-Proto": "https",
                            "X-Forwarded-For": "127.0.0.1"})
        response = self.http.request(method, target, headers=headers, allow_redirects=False,
                                     verify=verify, timeout=30, **kwargs)
        for header in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=thu, 01 jan 1970" in header.lower() or "max-age=0" in header.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, url: str, via: str | None = None, **kwargs):
        return self.request("GET", url, via, **kwargs)

    def post(self, url: str, data: dict, via: str | None = None, **kwargs):
        return self.request("POST", url, via, data=data, **kwargs)

    def form(self, url: str, fields: dict, via: str | None = None, post_via: str | None = None):
        """GET a form page (via one instance), POST it with its CSRF token (via another)."""
        page = self.get(url, via)
        assert page.status_code == 200, page.text[:500]
        token = _CSRF.search(page.text).group(1)
        return self.post(url, {"csrf_token": token, **fields}, post_via)


def environment(**settings) -> dict:
    """The process environment of the instances: the machine's, less any KLEIDI_* of the test
    run, plus ``settings`` as KLEIDI_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLEIDI_")}
    env.update({f"KLEIDI_{k}": str(v) for k, v in settings.items()})
    return env
