"""Where a worker's CPU goes on the token endpoint: py-spy samples it under load.

Same set-up as bench/oidc_tokens.py, Kleidi only: the production server (``kleidi serve``, one
worker) or, with SERVER=gunicorn, one gunicorn worker with THREADS threads.
Writes py-spy's raw (collapsed) stacks per phase to OUTDIR and prints the heaviest frames.
SPY_FLAGS passes flags to ``py-spy record`` (default ``--nonblocking``; ``--gil`` samples only
the thread holding the GIL, i.e. Python CPU); SPY_FLAGS=none skips py-spy and prints the
worker's CPU seconds per phase instead. THREADS sets gunicorn's threads (default 4).

    .venv/bin/pip install py-spy
    .venv/bin/python bench/oidc_profile.py OUTDIR [--requests 1000]
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import requests
from oidc_kleidi import (
    SERVERS,
    bench_database,
    forget_store,
    kleidi_form_handler,
    kleidi_settings,
    prepare_kleidi,
)
from oidc_load import (
    CALLBACK,
    ROOT,
    cpu_seconds,
    follow,
    free_port,
    mint_codes,
    pkce,
    run_load,
    wait_for,
    worker_pid,
)

SPY_FLAGS = os.environ.get("SPY_FLAGS", "--nonblocking").split()


def sampled(pid: int, out: Path, action):
    """Run ``action`` under py-spy (unless SPY_FLAGS=none); print the worker's CPU use."""
    if SPY_FLAGS == ["none"]:
        before, started = cpu_seconds(pid), time.monotonic()
        result = action()
        busy, wall = cpu_seconds(pid) - before, time.monotonic() - started
        print(f"{out.stem}: worker CPU {busy:.2f} s of {wall:.2f} s wall "
              f"({100 * busy / wall:.0f}% of a core)")
        return result
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid),
                            "-r", "500", "-f", "raw", "-o", str(out), *SPY_FLAGS],
                           stdout=subprocess.DEVNULL)
    time.sleep(1.0)
    try:
        return action()
    finally:
        spy.send_signal(2)
        spy.wait(timeout=60)


def summary(path: Path, top: int = 40) -> None:
    own, inclusive, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("wsgi_app" in f for f in frames):
            continue  # idle threads
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    print(f"{path.name}: {total} busy samples")
    for frame, n in inclusive.most_common(top):
        print(f"  {100 * n / total:5.1f}% incl  {frame}")
    print("  -- self --")
    for frame, n in own.most_common(25):
        print(f"  {100 * n / total:5.1f}% self  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kleidi-prof-") as tmp, \
            bench_database(Path(tmp)) as url:
        settings = kleidi_settings(Path(tmp), free_port(), url)
        try:
            run(settings, args)
        finally:
            forget_store(settings)


def run(settings, args) -> None:
    port = int(settings["BASE_URL"].rsplit(":", 1)[1])
    username, password, client_id, secret = prepare_kleidi(settings)
    env = {**os.environ, **{f"KLEIDI_{k}": str(v) for k, v in settings.items()}}
    if os.environ.get("SERVER") == "gunicorn":
        threads = os.environ.get("THREADS", "4")  # 1 makes gunicorn use its sync worker
        command = [str(Path(sys.executable).parent / "gunicorn"), "-w", "1", "--threads", threads,
                   "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--log-level", "warning",
                   "wsgi:app"]
    else:
        command = [*SERVERS["granian"](port)]
    with subprocess.Popen(command, env=env, cwd=ROOT) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/.well-known/openid-configuration")
            browser = requests.Session()
            first = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
                     "scope": "openid profile email", "code_challenge": pkce()[1],
                     "code_challenge_method": "S256"}
            follow(browser, base + "/oidc/authorize?" + urlencode(first),
                   kleidi_form_handler(username, password))
            codes = mint_codes(browser, base + "/oidc/authorize", client_id, args.requests)
            auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            pid = worker_pid(proc.pid)
            forms = [{"grant_type": "authorization_code", "code": c, "redirect_uri": CALLBACK,
                      "code_verifier": v} for c, v in codes]
            ex = sampled(pid, args.outdir / "exchange.txt",
                         lambda: run_load(port, "/oidc/token", forms, auth, 8, pid))
            refreshes = [{"grant_type": "refresh_token", "refresh_token": a["refresh_token"]}
                         for a in ex.pop("answers") if a]
            rf = sampled(pid, args.outdir / "refresh.txt",
                         lambda: run_load(port, "/oidc/token", refreshes, auth, 8, pid))
            rf.pop("answers")
            print("exchange", ex, "\nrefresh", rf)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if SPY_FLAGS != ["none"]:
        summary(args.outdir / "exchange.txt")
        summary(args.outdir / "refresh.txt")


if __name__ == "__main__":
    main()
