"""SAML at federation scale: 10, 1,000 and 5,000 SPs, this code beside a baseline (by default
the code before the index of SPs, 9f2a4e4: every SP a pysaml2 metadata source).

For each size the same SPs (eduGAIN-like entities: mdui names, R&S, RegistrationInfo, one
certificate of its own each, requested attributes, contacts; the benchmark's SP half-way down,
with a release policy and consent) are published as a signed aggregate. This code loads them
as a federation source (``kleidi metadata source add``); the baseline, which has no sources,
reads the same aggregate as a file in METADATA_DIR.

Over HTTP (the production server, one worker, SQLite + in-process store), per size and code,
in alternating rounds: time from launch to the first SSO answered, that first SSO's latency,
CPU per signed Response and responses per CPU-second, RSS / PSS / private memory of the worker;
for this code at the largest size also the latencies while a refresh replaces the aggregate.
In process (this code only): the directory's start-up (building the index) with the SPs as a
federation source and as a file, its memory, and look-up time. Writes
bench/results/saml_scale.json and .md.

Every server runs pinned to core SERVER_CORE (default 1); this process, which sends the
requests, keeps to the other cores.

    .venv/bin/python bench/saml_scale.py [--sizes 10,1000,5000] [--baseline REF] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import saml_scale_report  # noqa: E402
import saml_scale_support as support  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
#: The last commit before SPs were looked up in one index (each SP its own metadata source).
BEFORE_INDEX = "9f2a4e458542821b0b8edd48c0dba84bf56fc473"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,5000")
    parser.add_argument("--baseline", default=BEFORE_INDEX,
                        help="git ref to compare with ('' none)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--in-process-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process_child:
        print(json.dumps(support.in_process(Path(args.in_process_child))))
        return 0
    sizes = [int(n) for n in args.sizes.split(",")]
    others = (os.sched_getaffinity(0) - {support.SERVER_CORE}) or os.sched_getaffinity(0)
    os.sched_setaffinity(0, others)  # the load generator off the servers' core
    work = Path(tempfile.mkdtemp(prefix="kleidi-scale-"))
    baseline = support.checkout(args.baseline, work) if args.baseline else None
    commits = {"this": support.commit_of(ROOT),
               "baseline": support.commit_of(baseline) if baseline else None,
               "server": support.SERVER_DESCRIPTION[support.server_of(ROOT)],
               "baseline_server": support.SERVER_DESCRIPTION[support.server_of(baseline)]
               if baseline else None}
    load_before, gauge_before = os.getloadavg(), support.rsa_gauge()
    try:
        results = {"sizes": measure(sizes, work, baseline, args)}
    finally:
        if baseline is not None:
            support.remove_checkout(baseline)
        shutil.rmtree(work, ignore_errors=True)
    results.update(environment(load_before, args, commits))
    results["machine"]["rsa2048_signs_per_cpu_second"] = [round(gauge_before),
                                                          round(support.rsa_gauge())]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "saml_scale.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "saml_scale.md").write_text(saml_scale_report.report(results))
    print(saml_scale_report.report(results))
    return 0


def measure(sizes: list[int], work: Path, baseline, args) -> dict:
    """Every size and code over HTTP in each round (sizes and codes in alternating order, so
    that the machine's load, which drifts, falls on all of them alike), then the rest."""
    entities = support.make_entities(max(sizes) - 1, work)
    setups = {size: support.prepare(work / f"n{size}", entities[:size - 1]) for size in sizes}
    runs = [(size, "this", ROOT, work / f"n{size}" / "federation") for size in sizes]
    if baseline is not None:
        runs += [(size, "baseline", baseline, work / f"n{size}" / "file") for size in sizes]
    found: dict[tuple, list] = {(size, name): [] for size, name, _code, _config in runs}
    for number in range(args.rounds):
        for size, name, code, config in (runs if number % 2 == 0 else reversed(runs)):
            found[(size, name)].append(
                support.serve_and_measure(code, config, setups[size], args.requests))
            print(json.dumps({"round": number, "size": size, "code": name,
                              **found[(size, name)][-1]}), flush=True)
    figures = {}
    for size in sizes:
        folder = work / f"n{size}"
        figures[str(size)] = {
            "http": {name: combine(found[(size, name)]) for s, name, _c, _f in runs if s == size},
            "in_process": {kind: in_process_child(folder / kind) for kind in ("federation", "file")},
        }
    largest = max(sizes)
    figures[str(largest)]["during_refresh"] = support.during_refresh(
        ROOT, work / f"n{largest}" / "federation", setups[largest], entities[:largest - 1])
    return figures


def in_process_child(config: Path) -> dict:
    output = subprocess.run([sys.executable, __file__, "--in-process-child", str(config)],
                            cwd=ROOT, env=support.env_for(config), check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def combine(found: list[dict]) -> dict:
    """Medians over rounds (and every round, for the record)."""
    keys = [k for k, v in found[0].items() if isinstance(v, int | float)]
    return {**{k: statistics.median(r[k] for r in found) for k in keys}, "rounds": found}


def environment(load_before, args, commits) -> dict:
    return {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "setup": {"server": commits["server"], "baseline_server": commits["baseline_server"],
                  "requests_per_round": args.requests,
                  "rounds": args.rounds, "baseline": args.baseline or None,
                  "baseline_commit": commits["baseline"], "this_commit": commits["this"],
                  "database": "SQLite (a file per size)", "store": "in-process",
                  "binding": "HTTP-Redirect AuthnRequest -> signed HTTP-POST Response"},
        "targets": {"cpu_at_5000_over_cpu_at_10": 1.3, "first_sso_seconds_at_5000": 0.5,
                    "rss_mb_per_worker_at_10": 150, "rss_mb_per_worker_at_5000": 200},
    }


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"took {time.monotonic() - started:.0f} s", file=sys.stderr)
    sys.exit(code)
