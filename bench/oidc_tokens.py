"""Token endpoint throughput: code->token exchanges and refreshes per second, per worker core.

Kleidi runs as one worker of the README's production command (gunicorn's sync worker, an
access log line per request; THREADS=4 measures a worker with four threads instead) on
127.0.0.1;
node-oidc-provider (from the npm registry, installed into a temporary folder) runs as one
Node.js process with the same client set-up: confidential client,
client_secret_basic, S256 PKCE, RS256 ID tokens, rotating refresh tokens. It keeps its state
in process memory (bench/node_op.mjs); when Kleidi runs on PostgreSQL + Redis, it is also
measured keeping its state in that Redis (bench/node_op.mjs's Redis adapter), the shape in
which several instances share it.

For each server the script obtains N codes through a signed-in browser session (not timed),
then times N code exchanges, then N refreshes (each refresh token once), with C requests in
flight from a Node.js load generator. Each round measures every server in turn.

Two rates per phase: requests per CPU-second of the server process (utime + stime of the
gunicorn worker, or of the node process, from /proc over the phase): what one core it keeps
busy serves, the figure the target is about, since the load generator, PostgreSQL and Redis
share the machine's cores (their CPU time is counted for no server); and wall-clock requests
per second. The median over rounds of the first, and the median round by the second with its
p50 and p99, go to bench/results/oidc_tokens-<backend>.json and .md.

    .venv/bin/python bench/oidc_tokens.py [--requests 1000] [--concurrency 8] [--rounds 3]

Kleidi uses the embedded SQLite + in-process store, or PostgreSQL + Redis when
KLEIDI_DATABASE_URL and KLEIDI_REDIS_URL are set (a database of its own is created on that
server and dropped afterwards; each server's Redis keys carry a prefix of the run's own, and
only those are deleted afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import requests
from oidc_kleidi import bench_kleidi
from oidc_load import CALLBACK, ROOT, forget_keys, free_port, measure, mint_codes, node_env

RESULTS = ROOT / "bench" / "results"


# -- node-oidc-provider -------------------------------------------------------------------


def bench_node(name: str, count: int, concurrency: int, redis_url: str = "") -> dict:
    """node-oidc-provider with its state in process memory, or in Redis at ``redis_url``."""
    folder = node_env.workdir([ROOT / "bench" / "load.mjs", ROOT / "bench" / "node_op.mjs"])
    port, client_id, secret = free_port(), "bench", secrets.token_urlsafe(32)
    prefix = f"node-bench:{secrets.token_hex(6)}:"
    store = [redis_url, prefix] if redis_url else []
    try:
        with subprocess.Popen([node_env.node(), str(folder / "node_op.mjs"), str(port), client_id,
                               secret, CALLBACK, *store], cwd=folder, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) as proc:
            try:
                assert proc.stdout.readline().strip() == "ready"
                browser = requests.Session()
                codes = mint_codes(browser, f"http://127.0.0.1:{port}/auth", client_id, count)
                return measure(name, port, "/token", codes, client_id, secret, concurrency,
                               proc.pid)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    finally:
        if redis_url:
            forget_keys(redis_url, prefix)


def versions() -> dict:
    import authlib

    node = subprocess.run([node_env.node(), "--version"], capture_output=True, text=True,
                          check=False).stdout.strip()
    package = json.loads((ROOT / "tests" / "interop" / "package.json").read_text())
    found = {"python": platform.python_version(), "authlib": authlib.__version__, "node": node,
             "oidc-provider": package["dependencies"]["oidc-provider"],
             "cpus": os.cpu_count(), "machine": platform.machine()}
    if os.environ.get("KLEIDI_REDIS_URL"):
        found["ioredis"] = package["dependencies"]["ioredis"]
    return found


PHASES = ("code_exchange", "refresh")
NODE_MEMORY, NODE_REDIS = "node-oidc-provider (memory)", "node-oidc-provider (redis)"


def servers(redis_url: str) -> tuple[str, ...]:
    """The servers of a run: node-oidc-provider in memory only, or in memory and on Redis."""
    return ("kleidi", NODE_MEMORY, NODE_REDIS) if redis_url else ("kleidi", "node-oidc-provider")


def median_of(rounds: list[dict], server: str, phase: str) -> dict:
    """The round with the median wall rate (its own p50/p99 alongside), and the median of the
    rounds' rates per server CPU-second (the rounds vary independently in each)."""
    rows = [r[server][phase] for r in rounds]
    ordered = sorted(rows, key=lambda row: row["per_second"])
    per_cpu = sorted(row["per_cpu_second"] for row in rows)
    return {**ordered[len(ordered) // 2], "per_cpu_second": per_cpu[len(per_cpu) // 2]}


TARGET_PER_CORE = 400


def verdict(results: dict, phase: str, server: str) -> str:
    """Kleidi against one node-oidc-provider configuration in one phase; with the ratio of
    the two within each round (measured minutes apart on the same machine, so a machine that
    slows down for a while moves both sides of a ratio, less its median)."""
    median = results["median"]
    kleidi, node = median["kleidi"][phase]["per_cpu_second"], median[server][phase][
        "per_cpu_second"]
    met = kleidi >= TARGET_PER_CORE and kleidi >= node
    ratios = sorted(r["kleidi"][phase]["per_cpu_second"] / r[server][phase]["per_cpu_second"]
                    for r in results["rounds"])
    return (f"{phase}: Kleidi {kleidi}/CPU-s, {server} {node}/CPU-s "
            f"({kleidi / node:.2f}x; per round {', '.join(f'{x:.2f}' for x in ratios)}x, "
            f"median {ratios[len(ratios) // 2]:.2f}x): target (>= {TARGET_PER_CORE} and >= "
            f"node) {'met' if met else 'NOT met'}.")


STORAGE_SQLITE = (
    "Kleidi keeps grants and refresh tokens in its SQL database (durable) and codes and "
    "access tokens in its store; node-oidc-provider keeps everything in process memory "
    "(`bench/node_op.mjs`).")
STORAGE_SHARED = (
    "Kleidi keeps grants and refresh tokens in PostgreSQL (durable) and codes and access "
    "tokens in Redis. node-oidc-provider (redis) keeps everything (sessions, interactions, "
    "grants, codes, access and refresh tokens) in Redis, through the adapter in "
    "`bench/node_op.mjs` (JSON values with node-oidc-provider's lifetimes, a set of keys per "
    "grant for revocation). node-oidc-provider (memory) keeps everything in its process's "
    "memory: nothing durable, nothing shared with another instance (node-oidc-provider's "
    "docs: in-memory storage is not for production). Both Kleidi and node-oidc-provider "
    "(redis) keep their state where several instances share it, in the same PostgreSQL and "
    "Redis servers, whose CPU time is counted for neither: each rate counts the server "
    "process's own CPU time only (its database and Redis client work included).")


def write(results: dict, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# OIDC token endpoint: requests per second per worker core", "",
        f"{results['when']}: {results['versions']['cpus']} CPUs shared with other work "
        f"(load average {results['load_average'][0]} before, {results['load_average'][1]} "
        f"after); {results['worker']}; Kleidi on {results['kleidi_backend']}; "
        f"{results['requests']} requests per phase, {results['concurrency']} connections; "
        f"{len(results['rounds'])} alternating rounds.", "",
        "| server | phase | req per server CPU-s | wall req/s | server CPU share | p50 ms | "
        "p99 ms | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for server in results["median"]:
        for phase in PHASES:
            row = results["median"][server][phase]
            lines.append(f"| {server} | {phase} | {row['per_cpu_second']} | {row['per_second']} "
                         f"| {row['server_cpu_share']} | {row['p50_ms']} | {row['p99_ms']} | "
                         f"{row['errors']} |")
    lines += ["", "Req per server CPU-s: requests divided by the server process's CPU time "
              "(user + system, all threads) over the phase, median of the rounds: the rate of "
              "one fully busy core. Wall req/s, its server CPU share (CPU-seconds per second) "
              "and p50/p99: the round with the median wall rate.", ""]
    nodes = [server for server in results["median"] if server != "kleidi"]
    lines += [f"* {verdict(results, phase, server)}"
              for server in nodes for phase in PHASES]
    lines += ["", (STORAGE_SHARED if NODE_REDIS in nodes else STORAGE_SQLITE) + " Both sign RS256 ID tokens "
              "with 2048-bit keys at the code exchange; on refresh node-oidc-provider signs a new "
              "ID token too, Kleidi returns none (OIDC Core 12.2 allows either), so node's "
              "refresh does one RS256 signature more. The load generator (`bench/load.mjs`) "
              "runs on the same machine."]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.requests > 20000 or args.concurrency > 64 or args.rounds > 9:
        parser.error("keep the load bounded: <= 20000 requests, 64 connections, 9 rounds")
    redis_url = os.environ.get("KLEIDI_REDIS_URL", "")
    if bool(redis_url) != bool(os.environ.get("KLEIDI_DATABASE_URL")):
        parser.error("set both KLEIDI_DATABASE_URL and KLEIDI_REDIS_URL, or neither")
    names = servers(redis_url)
    load_before, rounds = os.getloadavg()[0], []
    for _ in range(args.rounds):  # alternate, so all servers see the same machine
        with tempfile.TemporaryDirectory(prefix="kleidi-bench-") as tmp:
            measured = {"kleidi": bench_kleidi(Path(tmp), args.requests, args.concurrency)}
        measured[names[1]] = bench_node(names[1], args.requests, args.concurrency)
        if redis_url:
            measured[NODE_REDIS] = bench_node(NODE_REDIS, args.requests, args.concurrency,
                                              redis_url)
        rounds.append(measured)
    backend = "postgresql" if os.environ.get("KLEIDI_DATABASE_URL") else "sqlite"
    write({
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "requests": args.requests, "concurrency": args.concurrency,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "kleidi_backend": "PostgreSQL + Redis" if backend == "postgresql"
        else "SQLite + in-process store",
        "worker": f"gunicorn 1 worker process x {os.environ.get('THREADS', '1')} thread(s) "
                  "with its access log vs node 1 process (each may use more than one core: the "
                  "per-core rate divides by its CPU time)",
        "versions": versions(),
        "median": {server: {phase: median_of(rounds, server, phase) for phase in PHASES}
                   for server in names},
        "rounds": rounds,
    }, f"oidc_tokens-{backend}")


if __name__ == "__main__":
    main()
