"""Token endpoint and password logins per server CPU-second: Kleidi and node-oidc-provider on
one core, in interleaved bursts.

Every server runs once for the whole run, pinned (``taskset``) to the same core (SERVER_CORE,
default 1); the load generator runs on the other (LOAD_CORE, default 0). Kleidi runs as one
worker of the production command (``kleidi serve``: granian, one worker, one thread, its access
log) and, for the choice of server, as one gunicorn sync worker with its access log (the
previous production command; ``--no-gunicorn`` leaves it out). node-oidc-provider (from the npm
registry, installed into a temporary folder) runs as one Node.js process with the same client
set-up: confidential client, client_secret_basic, S256 PKCE, RS256 ID tokens, rotating refresh
tokens; it keeps its state in process memory (``bench/node_op.mjs``), and when Kleidi runs on
PostgreSQL + Redis it is also measured keeping its state in that Redis.

A round: each server mints BURST codes through a signed-in browser session (not timed); then
each server in turn takes a burst of BURST code exchanges, then each in turn a burst of BURST
refreshes (each refresh token once), with C requests in flight over keep-alive connections
(``bench/load.mjs``); the order of the servers rotates from round to round. Kleidi then takes
LOGINS password logins (login page, then the form post with the right password, a new browser
session each). A burst's rate is requests per CPU-second of the server process (user + system
time of the worker or node process over the burst, from /proc): what the one core it keeps
busy serves, whatever else the machine is doing. Within a round the servers meet the same
machine within seconds, so the verdicts use the ratio of two servers within each round: its
median over the rounds and its spread (lowest-highest). The first round (``--warm-up``) is
left out: node-oidc-provider's JIT compiler is still at work during it.

    .venv/bin/pip install -e '.[bench]'        # gunicorn, for the comparison
    .venv/bin/python bench/oidc_tokens.py [--burst 300] [--concurrency 8] [--rounds 7] [--warm-up 1]

Kleidi uses the embedded SQLite + in-process store, or PostgreSQL + Redis when
KLEIDI_DATABASE_URL and KLEIDI_REDIS_URL are set (a database of its own is created on that
server and dropped afterwards; each server's Redis keys carry a prefix of the run's own, and
only those are deleted afterwards). Results: bench/results/oidc_tokens-<backend>.json and .md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from oidc_kleidi import Kleidi
from oidc_load import (
    ROOT,
    basic_auth,
    cpu_seconds,
    exchange_forms,
    forget_keys,
    free_port,
    mint_codes,
    node_env,
    refresh_forms,
    run_load,
)

RESULTS = ROOT / "bench" / "results"
PHASES = ("code_exchange", "refresh")
KLEIDI, GUNICORN = "kleidi (granian)", "kleidi (gunicorn)"
NODE_MEMORY, NODE_REDIS = "node-oidc-provider (memory)", "node-oidc-provider (redis)"


class Node:
    """node-oidc-provider on core ``core``, its state in memory or in Redis at ``redis_url``."""

    grant_path = "/token"

    def __init__(self, name: str, core: int | None, redis_url: str = ""):
        self.name, self.core, self.redis_url = name, core, redis_url

    def __enter__(self):
        folder = node_env.workdir([ROOT / "bench" / "load.mjs", ROOT / "bench" / "node_op.mjs"])
        self.port, self.client_id, self.secret = free_port(), "bench", secrets.token_urlsafe(32)
        self.prefix = f"node-bench:{secrets.token_hex(6)}:"
        store = [self.redis_url, self.prefix] if self.redis_url else []
        pin = ["taskset", "-c", str(self.core)] if self.core is not None else []
        self.proc = subprocess.Popen(
            [*pin, node_env.node(), str(folder / "node_op.mjs"), str(self.port), self.client_id,
             self.secret, "http://127.0.0.1:9/callback", *store], cwd=folder,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.pid, self.browser = self.proc.pid, requests.Session()
        return self

    def codes(self, count: int) -> list[tuple[str, str]]:
        return mint_codes(self.browser, f"http://127.0.0.1:{self.port}/auth", self.client_id,
                          count)

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if self.redis_url:
            forget_keys(self.redis_url, self.prefix)


def burst(server, forms: list[dict], concurrency: int, load_pin) -> dict:
    done = run_load(server.port, server.grant_path, forms,
                    basic_auth(server.client_id, server.secret), concurrency, server.pid,
                    load_pin)
    if done["errors"]:  # a failed request is fast: never count one
        raise RuntimeError(f"{server.name}: {done['errors']} of {done['requests']} failed")
    return done


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def logins(kleidi: Kleidi, count: int) -> dict:
    """``count`` password logins (a new browser each: login page, then the form), two at a
    time; per CPU-second of the worker."""

    def one(_):
        browser = requests.Session()
        page = browser.get(kleidi.base + "/login", timeout=30)
        answer = browser.post(kleidi.base + "/login", allow_redirects=False, timeout=30, data={
            "csrf_token": _CSRF.search(page.text).group(1), "username": kleidi.username,
            "password": kleidi.password, "i": ""}, headers={"Referer": kleidi.base + "/login"})
        return answer.status_code in (302, 303)

    before, started = cpu_seconds(kleidi.pid), time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        ok = sum(pool.map(one, range(count)))
    cpu, seconds = cpu_seconds(kleidi.pid) - before, time.monotonic() - started
    if ok != count:
        raise RuntimeError(f"{kleidi.name}: {count - ok} of {count} logins failed")
    return {"requests": count, "server_cpu_seconds": round(cpu, 3),
            "per_cpu_second": round(count / cpu, 1), "per_second": round(count / seconds, 1)}


_ARGON2_GAUGE = """
import sys, time
from argon2 import PasswordHasher, Type
hasher = PasswordHasher(memory_cost=int(sys.argv[1]), time_cost=int(sys.argv[2]),
                        parallelism=int(sys.argv[3]), type=Type.ID)
stored = hasher.hash("a password of some length")
count, start = 0, time.thread_time()
while time.thread_time() - start < 1.5:
    hasher.verify(stored, "a password of some length")
    count += 1
print(count / (time.thread_time() - start))
"""


def argon2_gauge(core: int | None) -> float:
    """argon2id verifications per CPU-second on the servers' core, with Kleidi's parameters:
    the floor of a password login's cost, which moves with the machine (memory-bound)."""
    from idp.config import Defaults

    params = [str(getattr(Defaults, name)) for name in
              ("ARGON2_MEMORY_KIB", "ARGON2_TIME_COST", "ARGON2_PARALLELISM")]
    return round(float(subprocess.run(
        (["taskset", "-c", str(core)] if core is not None else [])
        + [sys.executable, "-c", _ARGON2_GAUGE, *params],
        check=True, capture_output=True, text=True).stdout), 1)


def one_round(servers: list, rotation: int, size: int, concurrency: int, load_pin,
              login_count: int) -> dict:
    order = servers[rotation % len(servers):] + servers[:rotation % len(servers)]
    codes = {server.name: server.codes(size) for server in order}
    measured = {server.name: {} for server in order}
    answers = {}
    for server in order:
        done = burst(server, exchange_forms(codes[server.name]), concurrency, load_pin)
        answers[server.name] = done.pop("answers")
        measured[server.name]["code_exchange"] = done
    for server in order:
        done = burst(server, refresh_forms(answers[server.name]), concurrency, load_pin)
        done.pop("answers")
        measured[server.name]["refresh"] = done
    for server in order:
        if server.name.startswith("kleidi") and login_count:
            measured[server.name]["password_login"] = logins(server, login_count)
    if login_count:
        gauge = argon2_gauge(order[0].core)
        for server in order:
            if "password_login" in measured[server.name]:
                measured[server.name]["password_login"]["argon2_per_cpu_second"] = gauge
    line = ", ".join(f"{name} " + "/".join(str(row["per_cpu_second"]) for row in phases.values())
                     for name, phases in measured.items())
    print(f"round {rotation + 1}: {line} (per CPU-s; load {os.getloadavg()[0]:.2f})", flush=True)
    return measured


def ratios(rounds: list[dict], phase: str, mine: str, theirs: str) -> dict:
    per_round = [r[mine][phase]["per_cpu_second"] / r[theirs][phase]["per_cpu_second"]
                 for r in rounds]
    return {"median": round(statistics.median(per_round), 2),
            "lowest": round(min(per_round), 2), "highest": round(max(per_round), 2),
            "per_round": [round(x, 2) for x in per_round]}


def summary(rounds: list[dict]) -> dict:
    names = list(rounds[0])
    medians = {name: {phase: statistics.median(r[name][phase]["per_cpu_second"] for r in rounds)
                      for phase in rounds[0][name]} for name in names}
    compared = {f"{KLEIDI} / {other}": {
        phase: ratios(rounds, phase, KLEIDI, other)
        for phase in rounds[0][other] if phase in rounds[0][KLEIDI]}
        for other in names if other != KLEIDI}
    hashed = [r[KLEIDI]["password_login"] for r in rounds
              if "argon2_per_cpu_second" in r[KLEIDI].get("password_login", {})]
    if hashed:  # a login's CPU over one hash's, in the same round on the same core
        per_round = [row["argon2_per_cpu_second"] / row["per_cpu_second"] for row in hashed]
        compared["password_login / argon2id alone"] = {
            "median": round(statistics.median(per_round), 2),
            "lowest": round(min(per_round), 2), "highest": round(max(per_round), 2),
            "per_round": [round(x, 2) for x in per_round],
            "argon2_per_cpu_second": statistics.median(
                row["argon2_per_cpu_second"] for row in hashed)}
    return {"median_per_cpu_second": medians, "ratios": compared}


def versions() -> dict:
    import authlib
    import granian

    node = subprocess.run([node_env.node(), "--version"], capture_output=True, text=True,
                          check=False).stdout.strip()
    package = json.loads((ROOT / "tests" / "interop" / "package.json").read_text())
    found = {"python": platform.python_version(), "authlib": authlib.__version__,
             "granian": granian.__version__, "node": node,
             "oidc-provider": package["dependencies"]["oidc-provider"],
             "cpus": os.cpu_count(), "machine": platform.machine()}
    with contextlib.suppress(ImportError):
        import gunicorn

        found["gunicorn"] = gunicorn.__version__
    if os.environ.get("KLEIDI_REDIS_URL"):
        found["ioredis"] = package["dependencies"]["ioredis"]
    return found


TARGETS = {  # (phase, against): the least ratio the target asks for
    ("code_exchange", NODE_REDIS): 1.0, ("refresh", NODE_REDIS): 1.0,
    ("code_exchange", NODE_MEMORY): 0.9, ("refresh", NODE_MEMORY): 0.9,
}
LOGIN_TARGET = 27


def write(results: dict, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    medians, lines = results["summary"]["median_per_cpu_second"], [
        "# OIDC token endpoint and password logins, per server CPU-second, on one core", "",
        f"{results['when']}: {results['versions']['cpus']} CPUs, shared with whatever else "
        f"the machine runs (load average {results['load_average'][0]} before, "
        f"{results['load_average'][1]} after); every server pinned to core "
        f"{results['server_core']}, the load generator to core {results['load_core']}; Kleidi "
        f"on {results['kleidi_backend']}; " + (
            f"{results['warm_up_rounds']} warm-up round(s) left out (node-oidc-provider's JIT "
            "compiles its hot paths over the first thousand requests), then "
            if results.get("warm_up_rounds") else "") + f"{results['rounds_count']} interleaved rounds of "
        f"{results['burst']} requests per server and phase, {results['concurrency']} "
        "keep-alive connections; versions: " + ", ".join(
            f"{k} {v}" for k, v in results["versions"].items() if k not in ("cpus", "machine"))
        + ".", "",
        "| server | " + " | ".join(PHASES + ("password_login",)) + " |",
        "| --- | --- | --- | --- |"]
    for server, phases in medians.items():
        lines.append(f"| {server} | " + " | ".join(
            str(phases.get(phase, "—")) for phase in PHASES + ("password_login",)) + " |")
    lines += ["", "Median over the rounds of requests (logins) per CPU-second of the server "
              "process. Ratios are taken within each round (same minute, same core):", ""]
    hashing = results["summary"]["ratios"].get("password_login / argon2id alone")
    for pair, phases in results["summary"]["ratios"].items():
        if pair == "password_login / argon2id alone":
            continue
        for phase, r in phases.items():
            other = pair.split(" / ", 1)[1]
            target = TARGETS.get((phase, other))
            verdict = "" if target is None else (
                f"; target ≥ {target}: {'met' if r['median'] >= target else 'NOT met'}")
            lines.append(f"* {pair}, {phase}: median {r['median']}x (lowest {r['lowest']}, "
                         f"highest {r['highest']}; per round {r['per_round']}){verdict}.")
    login = medians[KLEIDI].get("password_login")
    if login:
        lines.append(f"* {KLEIDI} password logins: {login} per CPU-second (target ≥ "
                     f"{LOGIN_TARGET}: {'met' if login >= LOGIN_TARGET else 'NOT met'}).")
    if login and hashing:
        lines.append(
            f"* One argon2id verification alone (Kleidi's parameters, same core, after each "
            f"round's logins): {hashing['argon2_per_cpu_second']} per CPU-second, the most "
            f"logins a core could do. A login costs {hashing['median']}x one verification "
            f"(lowest {hashing['lowest']}, highest {hashing['highest']}; per round "
            f"{hashing['per_round']}).")
    lines += ["", results["storage"], "", (
        "Both sign RS256 ID tokens with 2048-bit keys at the code exchange; on refresh "
        "node-oidc-provider signs a new ID token too, Kleidi returns none (OIDC Core 12.2 "
        "allows either), so node's refresh does one RS256 signature more. A password login "
        "is two requests (the page, then the form; the password checked with argon2id).")]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


STORAGE_SQLITE = (
    "Kleidi keeps grants and refresh tokens in its SQL database (durable) and codes and "
    "access tokens in its store; node-oidc-provider keeps everything in process memory.")
STORAGE_SHARED = (
    "Kleidi keeps grants and refresh tokens in PostgreSQL (durable) and codes and access "
    "tokens in Redis. node-oidc-provider (redis) keeps everything (sessions, interactions, "
    "grants, codes, access and refresh tokens) in the same Redis, through the adapter in "
    "`bench/node_op.mjs`; node-oidc-provider (memory) keeps everything in its process's "
    "memory: nothing durable, nothing shared with another instance (its docs: not for "
    "production). PostgreSQL and Redis run unpinned; their CPU time is counted for no server.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warm-up", type=int, default=1,
                        help="rounds run first and left out of the figures")
    parser.add_argument("--logins", type=int, default=60)
    parser.add_argument("--no-gunicorn", action="store_true")
    args = parser.parse_args()
    if args.burst > 5000 or args.concurrency > 64 or args.rounds > 15 or args.logins > 1000:
        parser.error("keep the load bounded: <= 5000 per burst, 64 connections, 15 rounds")
    redis_url = os.environ.get("KLEIDI_REDIS_URL", "")
    if bool(redis_url) != bool(os.environ.get("KLEIDI_DATABASE_URL")):
        parser.error("set both KLEIDI_DATABASE_URL and KLEIDI_REDIS_URL, or neither")
    server_core, load_core = (int(os.environ.get(k, v)) for k, v in
                              (("SERVER_CORE", "1"), ("LOAD_CORE", "0")))
    load_pin = ["taskset", "-c", str(load_core)]
    load_before, rounds = os.getloadavg()[0], []
    with tempfile.TemporaryDirectory(prefix="kleidi-bench-") as tmp, \
            contextlib.ExitStack() as stack:
        servers = [stack.enter_context(Kleidi("granian", Path(tmp) / "granian", server_core))]
        if not args.no_gunicorn:
            servers.append(stack.enter_context(Kleidi("gunicorn", Path(tmp) / "gunicorn",
                                                      server_core)))
        servers.append(stack.enter_context(Node(NODE_MEMORY, server_core)))
        if redis_url:
            servers.append(stack.enter_context(Node(NODE_REDIS, server_core, redis_url)))
        for number in range(args.warm_up + args.rounds):
            done = one_round(servers, number, args.burst, args.concurrency, load_pin,
                             args.logins)
            if number >= args.warm_up:  # node's JIT and every server's caches are warm
                rounds.append(done)
    backend = "postgresql" if redis_url else "sqlite"
    write({
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "burst": args.burst, "concurrency": args.concurrency, "rounds_count": args.rounds,
        "warm_up_rounds": args.warm_up,
        "server_core": server_core, "load_core": load_core,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "kleidi_backend": "PostgreSQL + Redis" if redis_url else "SQLite + in-process store",
        "storage": STORAGE_SHARED if redis_url else STORAGE_SQLITE,
        "versions": versions(), "summary": summary(rounds), "rounds": rounds,
    }, f"oidc_tokens-{backend}")


if __name__ == "__main__":
    main()
