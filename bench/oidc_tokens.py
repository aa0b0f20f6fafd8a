"""Token endpoint throughput: code->token exchanges and refreshes per second, per worker core.

Kleidi runs as one worker of the README's production command (gunicorn's sync worker, an
access log line per request; THREADS=4 measures a worker with four threads instead) on
127.0.0.1;
node-oidc-provider (from the npm registry, installed into a temporary folder) runs as one
Node.js process with the same client set-up: confidential client,
client_secret_basic, S256 PKCE, RS256 ID tokens, rotating refresh tokens.

For each server the script obtains N codes through a signed-in browser session (not timed),
then times N code exchanges, then N refreshes (each refresh token once), with C requests in
flight from a Node.js load generator. Rounds alternate between the two servers.

Two rates per phase: requests per CPU-second of the server process (utime + stime of the
gunicorn worker, or of the node process, from /proc over the phase): what one core it keeps
busy serves, the figure the target is about, since the load generator, PostgreSQL and Redis
share the machine's cores; and wall-clock requests per second. The median over rounds of the
first, and the median round by the second with its p50 and p99, go to
bench/results/oidc_tokens-<backend>.json and .md.

    .venv/bin/python bench/oidc_tokens.py [--requests 1000] [--concurrency 8] [--rounds 3]

Kleidi uses the embedded SQLite + in-process store, or PostgreSQL + Redis when
KLEIDI_DATABASE_URL and KLEIDI_REDIS_URL are set (a database of its own is created on that
server and dropped afterwards; only its own Redis keys are deleted).
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
from oidc_load import CALLBACK, ROOT, free_port, measure, mint_codes, node_env

RESULTS = ROOT / "bench" / "results"


# -- node-oidc-provider -------------------------------------------------------------------


def bench_node(count: int, concurrency: int) -> dict:
    folder = node_env.workdir([ROOT / "bench" / "load.mjs", ROOT / "bench" / "node_op.mjs"])
    port, client_id, secret = free_port(), "bench", secrets.token_urlsafe(32)
    with subprocess.Popen([node_env.node(), str(folder / "node_op.mjs"), str(port), client_id,
                           secret, CALLBACK], cwd=folder, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "ready"
            browser = requests.Session()
            codes = mint_codes(browser, f"http://127.0.0.1:{port}/auth", client_id, count)
            return measure("node-oidc-provider", port, "/token", codes, client_id, secret,
                           concurrency, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def versions() -> dict:
    import authlib

    node = subprocess.run([node_env.node(), "--version"], capture_output=True, text=True,
                          check=False).stdout.strip()
    package = json.loads((ROOT / "tests" / "interop" / "package.json").read_text())
    return {"python": platform.python_version(), "authlib": authlib.__version__, "node": node,
            "oidc-provider": package["dependencies"]["oidc-provider"],
            "cpus": os.cpu_count(), "machine": platform.machine()}


PHASES = ("code_exchange", "refresh")
SERVERS = ("kleidi", "node-oidc-provider")


def median_of(rounds: list[dict], server: str, phase: str) -> dict:
    """The round with the median wall rate (its own p50/p99 alongside), and the median of the
    rounds' rates per server CPU-second (the rounds vary independently in each)."""
    rows = [r[server][phase] for r in rounds]
    ordered = sorted(rows, key=lambda row: row["per_second"])
    per_cpu = sorted(row["per_cpu_second"] for row in rows)
    return {**ordered[len(ordered) // 2], "per_cpu_second": per_cpu[len(per_cpu) // 2]}


TARGET_PER_CORE = 400


def verdict(median: dict, phase: str) -> str:
    kleidi, node = median["kleidi"][phase]["per_cpu_second"], median[
        "node-oidc-provider"][phase]["per_cpu_second"]
    met = kleidi >= TARGET_PER_CORE and kleidi >= node
    return (f"{phase}: Kleidi {kleidi}/CPU-s, node-oidc-provider {node}/CPU-s "
            f"({kleidi / node:.2f}x): target (>= {TARGET_PER_CORE} and >= node) "
            f"{'met' if met else 'NOT met'}.")


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
    for server in SERVERS:
        for phase in PHASES:
            row = results["median"][server][phase]
            lines.append(f"| {server} | {phase} | {row['per_cpu_second']} | {row['per_second']} "
                         f"| {row['server_cpu_share']} | {row['p50_ms']} | {row['p99_ms']} | "
                         f"{row['errors']} |")
    lines += ["", "Req per server CPU-s: requests divided by the server process's CPU time "
              "(user + system, all threads) over the phase, median of the rounds: the rate of "
              "one fully busy core. Wall req/s, its server CPU share (CPU-seconds per second) "
              "and p50/p99: the round with the median wall rate.", ""]
    lines += [f"* {verdict(results['median'], phase)}" for phase in PHASES]
    lines += ["", "Kleidi keeps grants and refresh tokens in its SQL database (durable) and codes and "
              "access tokens in its store; node-oidc-provider keeps everything in process memory "
              "(`bench/node_op.mjs`). Both sign RS256 ID tokens with 2048-bit keys at the code "
              "exchange; on refresh node-oidc-provider signs a new ID token too, Kleidi returns "
              "none (OIDC Core 12.2 allows either), so node's refresh does one RS256 signature "
              "more. The load generator (`bench/load.mjs`) runs on the same machine."]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.requests > 20000 or args.concurrency > 64 or args.rounds > 9:
        parser.error("keep the load bounded: <= 20000 requests, 64 connections, 9 rounds")
    load_before, rounds = os.getloadavg()[0], []
    for _ in range(args.rounds):  # alternate, so both servers see the same machine
        with tempfile.TemporaryDirectory(prefix="kleidi-bench-") as tmp:
            kleidi = bench_kleidi(Path(tmp), args.requests, args.concurrency)
        rounds.append({"kleidi": kleidi,
                       "node-oidc-provider": bench_node(args.requests, args.concurrency)})
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
                   for server in SERVERS},
        "rounds": rounds,
    }, f"oidc_tokens-{backend}")


if __name__ == "__main__":
    main()
