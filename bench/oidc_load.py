"""The client side of bench/oidc_tokens.py: obtaining codes, timing token requests."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import subprocess
import sys
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
    if exchange["errors"] or refresh["errors"]:  # a failed request is fast: never count one
        raise RuntimeError(f"{name}: {exchange['errors']} exchanges, {refresh['errors']} refreshes failed")
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
