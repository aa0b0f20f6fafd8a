"""Kleidi as production runs it: the ``kleidi serve`` command in a process of its own, on a free
loopback port, sharing the test run's database (and Redis, when the run uses it)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

KLEIDI = Path(sys.executable).parent / "kleidi"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Served:
    """A running ``kleidi serve``: its base URL and, once stopped, what it wrote."""

    def __init__(self, base: str, log: Path):
        self.base, self.log = base, log

    def output(self) -> str:
        return self.log.read_text()


@contextmanager
def kleidi_serve(settings: dict, folder: Path, *arguments: str):
    """Run ``kleidi serve`` with ``settings`` (as KLEIDI_* variables) until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, **{f"KLEIDI_{k}": _env(v) for k, v in settings.items()},
           "KLEIDI_BASE_URL": base, "KLEIDI_SERVER_NAME": f"127.0.0.1:{port}"}
    log = folder / f"kleidi-serve-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(KLEIDI), "serve", "--port", str(port), *arguments],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(base + "/healthz", proc)
        yield Served(base, log)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _env(value) -> str:
    """A setting as its KLEIDI_* variable holds it (see ``idp.config``)."""
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _wait_for(url: str, proc, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"kleidi serve exited with {proc.returncode}")
        try:
            requests.get(url, timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError("kleidi serve did not answer")


def sign_in(browser: requests.Session, url: str, username: str, password: str,
            stop_at: str) -> str:
    """Follow the IdP's pages like a browser (login form, consent) until a URL starting with
    ``stop_at``; that URL."""
    response = browser.get(url, allow_redirects=False, timeout=30)
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(stop_at):
                return target
            response = browser.get(target, allow_redirects=False, timeout=30)
            continue
        html, token = response.text, _CSRF.search(response.text).group(1)
        if 'name="decision"' in html:
            data = {"csrf_token": token, "decision": "accept"}
        else:
            iid = parse_qs(urlsplit(response.url).query)["i"][0]
            data = {"csrf_token": token, "username": username, "password": password, "i": iid}
        action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
        response = browser.post(urljoin(response.url, action), data=data,
                                allow_redirects=False, timeout=30,
                                headers={"Referer": response.url})
    raise AssertionError(f"never reached {stop_at}")
