"""A bounded load run at a multiple of the start-of-year peak of docs/capacity.md.

Kleidi is served by the production command (``kleidi serve --workers W``) on loopback, with its
own database (a new PostgreSQL database when KLEIDI_DATABASE_URL is set, else SQLite) and
Redis (KLEIDI_REDIS_URL; without it, one worker and the in-process store). Requests arrive
at fixed rates whatever the answers' speed (an open model: a slow server builds a queue, as
a real start of year would), from a pool of threads:

* sign-ins: the login page, then the form with the right password (argon2id), a new browser
  each time (``--sign-ins`` per second at 1x);
* SSOs: an OIDC authorization request from a signed-in browser, answered at once with a code,
  and the code's exchange at the token endpoint (``--ssos`` per second at 1x).

Every ``--sample`` seconds it records the 5xx answers, latency percentiles and the resident
memory (RSS) of the server's processes. It stops after ``--minutes``, or at once when the
server falls ``--max-backlog`` requests behind (it cannot keep up: said in the result).

    .venv/bin/python bench/load.py --factor 2 --minutes 10 [--workers 2]

Results: bench/results/load.json and load.md (the machine, its load average, every sample).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from oidc_kleidi import Kleidi
from oidc_load import CALLBACK, ROOT, basic_auth, pkce

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

RESULTS = ROOT / "bench" / "results"


class Served(Kleidi):
    """Kleidi with ``workers`` workers of the production command."""

    def __init__(self, tmp: Path, workers: int):
        super().__init__("granian", tmp, None)
        self.workers = workers

    def __enter__(self):
        from oidc_kleidi import SERVERS

        workers = self.workers
        SERVERS["granian"] = lambda port: [str(Path(os.sys.executable).parent / "kleidi"),
                                           "serve", "--port", str(port), "--workers",
                                           str(workers)]
        return super().__enter__()


def processes(pid: int) -> list[int]:
    """``pid`` and its children (granian's workers)."""
    found = [pid]
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found.extend(processes(int(child)))
    except OSError:
        pass
    return found


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


class Run:
    """The measurements of the run, shared by the threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {"sign_in": [], "sso": []}
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self.failed = 0
        self.backlog = 0

    def record(self, kind: str, seconds: float, statuses: list[int]) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            for status in statuses:
                self.statuses[status] = self.statuses.get(status, 0) + 1

    def take(self) -> tuple[dict, dict, int]:
        with self.lock:
            latencies, self.latencies = self.latencies, {"sign_in": [], "sso": []}
            statuses, self.statuses = self.statuses, {}
            errors, self.errors = self.errors + self.failed, 0
            self.failed = 0
        return latencies, statuses, errors


def sign_in(kleidi: Served, run: Run) -> None:
    browser = requests.Session()
    started = time.perf_counter()
    page = browser.get(kleidi.base + "/login", timeout=60)
    statuses = [page.status_code]
    token = CSRF.search(page.text)
    if page.status_code == 200 and token:
        form = browser.post(kleidi.base + "/login", allow_redirects=False, timeout=60, data={
            "csrf_token": token.group(1), "username": kleidi.username,
            "password": kleidi.password, "i": ""})
        statuses.append(form.status_code)
        if form.status_code != 303:  # the login page again: the sign-in did not happen
            with run.lock:
                run.failed += 1
    run.record("sign_in", time.perf_counter() - started, statuses)
    browser.close()


def sso(kleidi: Served, browser: requests.Session, run: Run) -> None:
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": kleidi.client_id, "redirect_uri": CALLBACK,
              "scope": "openid profile email", "code_challenge": challenge,
              "code_challenge_method": "S256", "state": "s", "nonce": "n"}
    started = time.perf_counter()
    answer = browser.get(kleidi.base + "/oidc/authorize?" + urlencode(params),
                         allow_redirects=False, timeout=60)
    statuses = [answer.status_code]
    code = parse_qs(urlsplit(answer.headers.get("Location", "")).query).get("code")
    if code:
        token = requests.post(kleidi.base + "/oidc/token", timeout=60, data={
            "grant_type": "authorization_code", "code": code[0], "redirect_uri": CALLBACK,
            "code_verifier": verifier}, headers={
            "Authorization": basic_auth(kleidi.client_id, kleidi.secret)})
        statuses.append(token.status_code)
    run.record("sso", time.perf_counter() - started, statuses)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def schedule(rate: float, job, pool, run: Run, stop: threading.Event, max_backlog: int):
    """Submit ``job`` ``rate`` times a second until ``stop``; count what is still waiting."""
    if rate <= 0:
        return
    interval, next_at = 1 / rate, time.perf_counter()
    while not stop.is_set():
        next_at += interval
        with run.lock:
            run.backlog += 1
            behind = run.backlog
        if behind > max_backlog:
            stop.set()
            return

        def task():
            try:
                job()
            except requests.RequestException:
                with run.lock:
                    run.errors += 1
            finally:
                with run.lock:
                    run.backlog -= 1

        pool.submit(task)
        time.sleep(max(0.0, next_at - time.perf_counter()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factor", type=float, default=2.0, help="multiple of the peak")
    parser.add_argument("--sign-ins", type=float, default=17.0, help="peak sign-ins per second")
    parser.add_argument("--ssos", type=float, default=67.0, help="peak SSOs per second")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=64, help="client threads")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds per sample")
    parser.add_argument("--max-backlog", type=int, default=2000)
    args = parser.parse_args()
    workers = args.workers if os.environ.get("KLEIDI_REDIS_URL") else 1
    rates = {"sign_in": args.sign_ins * args.factor, "sso": args.ssos * args.factor}
    tmp = Path(tempfile.mkdtemp(prefix="kleidi-load-"))
    with Served(tmp, workers) as kleidi:
        result = drive(kleidi, args, rates, workers)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "load.md").write_text(report(result))
    print(report(result))


def drive(kleidi: Served, args, rates: dict, workers: int) -> dict:
    run, stop = Run(), threading.Event()
    signed_in = [requests.Session() for _ in range(8)]  # SSO browsers, consent remembered
    for browser in signed_in:
        browser.cookies.update(kleidi.browser.cookies)
    rotation = queue.SimpleQueue()
    for browser in signed_in:
        rotation.put(browser)

    def one_sso():
        browser = rotation.get()
        try:
            sso(kleidi, browser, run)
        finally:
            rotation.put(browser)

    load_before = os.getloadavg()
    pool = ThreadPoolExecutor(args.threads)
    feeders = [threading.Thread(target=schedule, daemon=True, args=(
        rates["sign_in"], lambda: sign_in(kleidi, run), pool, run, stop, args.max_backlog)),
        threading.Thread(target=schedule, daemon=True, args=(
            rates["sso"], one_sso, pool, run, stop, args.max_backlog))]
    for feeder in feeders:
        feeder.start()
    samples, started = [], time.monotonic()
    master = _parent(kleidi.pid)
    while not stop.is_set() and time.monotonic() - started < 60 * args.minutes:
        stop.wait(args.sample)
        latencies, statuses, errors = run.take()
        samples.append(sample(time.monotonic() - started, latencies, statuses, errors,
                              rss_mb(processes(master)), run.backlog, args.sample))
        print(json.dumps(samples[-1]), flush=True)
    stopped_early = time.monotonic() - started < 60 * args.minutes
    stop.set()
    pool.shutdown(wait=True, cancel_futures=True)
    return {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_average_before": load_before, "load_average_after": os.getloadavg()},
            "setup": {"workers": workers, "database": kleidi.settings["DATABASE_URL"].split(":")[0],
                      "store": "redis" if kleidi.settings["REDIS_URL"] else "in-process",
                      "factor": args.factor, "rates_per_second": rates,
                      "minutes_asked": args.minutes, "client_threads": args.threads},
            "kept_up": not stopped_early, "samples": samples}


def _parent(pid: int) -> int:
    """The parent of ``pid`` (granian's main process, of a worker)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def sample(at, latencies, statuses, errors, rss, backlog, seconds) -> dict:
    every = latencies["sign_in"] + latencies["sso"]
    return {"at_s": round(at), "sign_ins_per_s": round(len(latencies["sign_in"]) / seconds, 1),
            "ssos_per_s": round(len(latencies["sso"]) / seconds, 1),
            "responses_5xx": sum(n for s, n in statuses.items() if s >= 500),
            "other_non_2xx_3xx": sum(n for s, n in statuses.items() if s >= 400 and s < 500),
            "failed_or_client_errors": errors, "backlog": backlog,
            "sign_in_p50_ms": percentile(latencies["sign_in"], 0.5),
            "sign_in_p99_ms": percentile(latencies["sign_in"], 0.99),
            "sso_p50_ms": percentile(latencies["sso"], 0.5),
            "sso_p99_ms": percentile(latencies["sso"], 0.99),
            "all_p50_ms": percentile(every, 0.5), "server_rss_mb": rss,
            "sso_median_ms": round(1000 * statistics.median(latencies["sso"]), 1)
            if latencies["sso"] else None}


def report(result: dict) -> str:
    setup = result["setup"]
    lines = [f"# Load run at {setup['factor']}x the peak of docs/capacity.md", "",
             f"{result['measured_at']}: {result['machine']['cpus']} CPUs (load average "
             f"{result['machine']['load_average_before'][0]:.2f} before, "
             f"{result['machine']['load_average_after'][0]:.2f} after), kleidi serve with "
             f"{setup['workers']} workers, {setup['database']} + {setup['store']}; offered "
             f"{setup['rates_per_second']['sign_in']:.1f} sign-ins/s and "
             f"{setup['rates_per_second']['sso']:.1f} SSOs/s for {setup['minutes_asked']} min; "
             f"kept up: {'yes' if result['kept_up'] else 'NO (stopped: backlog over the limit)'}.",
             "", "| s | sign-ins/s | SSOs/s | 5xx | backlog | sign-in p50/p99 ms | SSO p50/p99 ms "
             "| RSS MB |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in result["samples"]:
        lines.append(f"| {row['at_s']} | {row['sign_ins_per_s']} | {row['ssos_per_s']} | "
                     f"{row['responses_5xx']} | {row['backlog']} | {row['sign_in_p50_ms']}/"
                     f"{row['sign_in_p99_ms']} | {row['sso_p50_ms']}/{row['sso_p99_ms']} | "
                     f"{row['server_rss_mb']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
