"""The client side of bench/oidc_tokens.py: obtaining codes, timing token requests; and clearing
a run's keys from a shared Redis."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
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


def worker_pid(master: int) -> int:
    """The one worker process under ``master`` (the process that serves the requests)."""
    for _ in range(100):
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        if out.strip():
            return int(out.split()[0])
        time.sleep(0.1)
    raise RuntimeError("no worker process")


def cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid``, all its threads: the scheduler's nanosecond run times of
    its live threads (/proc/<pid>/task/*/schedstat), unless threads ended in between, which
    only /proc/<pid>/stat's user + system clock ticks (1/100 s) still count."""
    ticks = _ticks(pid)
    run = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            run += int((task / "schedstat").read_text().split()[0])
    return CpuTime(run / 1e9, ticks)


class CpuTime(float):
    """Seconds of CPU (nanosecond precision), with the coarse tick count beside it."""

    def __new__(cls, seconds: float, ticks: float):
        value = super().__new__(cls, seconds)
        value.ticks = ticks
        return value

    def __sub__(self, before):
        fine, coarse = float(self) - float(before), self.ticks - before.ticks
        # A thread that ended in between took its run time with it: trust the ticks then.
        return fine if abs(fine - coarse) <= 0.03 + 0.05 * coarse else coarse


def _ticks(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def forget_keys(redis_url: str, prefix: str) -> None:
    """Delete the keys starting with ``prefix`` (a run's own) from a shared Redis."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=prefix + "*", count=500):
        client.delete(key)
    client.close()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


# -- Load --------------------------------------------------------------------------------


def run_load(port, path, forms, auth, concurrency, pid, pin=()) -> dict:
    """POST every form with ``concurrency`` requests in flight (bench/load.mjs, in Node so
    that the load generator costs less CPU than the servers it measures).

    ``pid`` is the server process: its CPU time over the phase gives requests per CPU-second
    of the server, i.e. per core it keeps busy, whatever else the machine's cores are doing
    (the load generator and the databases run on the same cores). ``pin`` prefixes the load
    generator's command (``taskset -c N``)."""
    folder = node_env.workdir([ROOT / "bench" / "load.mjs", ROOT / "bench" / "node_op.mjs"])
    feed = "".join(json.dumps({"form": form}) + "\n" for form in forms)
    cpu_before = cpu_seconds(pid)  # the server idles until the generator starts
    done = subprocess.run([*pin, node_env.node(), str(folder / "load.mjs"), str(port), path,
                           str(concurrency), auth], input=feed, capture_output=True, text=True,
                          timeout=600, check=True)
    cpu = cpu_seconds(pid) - cpu_before
    result = json.loads(done.stdout)
    latencies = sorted(result["latencies_ms"])
    answers = [body if status == 200 else None for status, body in result["answers"]]
    return {
        "requests": len(forms), "errors": answers.count(None),
        "seconds": round(result["seconds"], 3),
        "per_second": round(len(forms) / result["seconds"], 1),
        "server_cpu_seconds": round(cpu, 2),
        "per_cpu_second": round(len(forms) / cpu, 1) if cpu else None,
        "server_cpu_share": round(cpu / result["seconds"], 2),
        "p50_ms": round(latencies[len(latencies) // 2], 2),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2),
        "answers": answers,
    }


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def exchange_forms(codes) -> list[dict]:
    return [{"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
             "code_verifier": verifier} for code, verifier in codes]


def refresh_forms(answers) -> list[dict]:
    return [{"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]}
            for answer in answers]


def measure(name, port, token_path, codes, client_id, secret, concurrency, pid) -> dict:
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    exchanges = [{"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                  "code_verifier": verifier} for code, verifier in codes]
    exchange = run_load(port, token_path, exchanges, auth, concurrency, pid)
    refreshes = [{"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]}
                 for answer in exchange.pop("answers") if answer]
    refresh = run_load(port, token_path, refreshes, auth, concurrency, pid)
    refresh.pop("answers")
    if exchange["errors"] or refresh["errors"]:  # a failed request is fast: never count one
        raise RuntimeError(f"{name}: {exchange['errors']} exchanges, {refresh['errors']} refreshes failed")
    for phase, row in (("exchange", exchange), ("refresh", refresh)):
        print(f"{name} {phase}: {row['per_cpu_second']}/CPU-s, {row['per_second']}/s wall "
              f"(server {100 * row['server_cpu_share']:.0f}% of a core), "
              f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms", flush=True)
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
