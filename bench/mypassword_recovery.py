"""Does the first step of a password recovery take as long for an unknown username or
contact as for a known one? And what does the second step of a login cost?

Times, on the embedded defaults, alternating, ROUNDS requests of each kind:

* the recovery identify POST for a known username + mobile, for a known username with
  another mobile and for an unknown username, with the timing floor off (0 s: what the work
  itself costs) and at its default (RECOVERY_IDENTIFY_MIN_SECONDS);
* the second-step POST with a right TOTP code, and with a recovery code.

Writes medians and 90th percentiles (milliseconds) to bench/results/mypassword_recovery.json.

    .venv/bin/python bench/mypassword_recovery.py [ROUNDS]
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyotp
import sqlalchemy as sa

from idp import create_app, db, keys, migrate
from idp.config import Defaults
from idp.identity import accounts, identifiers
from idp.identity.models import Account, Person
from idp.mfa import totp

RESULTS = Path(__file__).resolve().parent / "results" / "mypassword_recovery.json"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
UNLIMITED = {name: 10**6 for name in (
    "PIN_SENDS_PER_CONTACT_HOUR", "PIN_SENDS_PER_CONTACT_DAY", "PIN_SENDS_PER_IP_HOUR",
    "PIN_SENDS_PER_IP_DAY", "SMS_HOURLY_BUDGET", "RECOVERY_STARTS_PER_IP_HOUR",
    "MFA_FAILURES_PER_ACCOUNT")}


def make_app(folder: Path, floor: float, name: str):
    keys.ensure_dev_keys(folder)
    app = create_app({
        "ENV": "testing", "DATABASE_URL": f"sqlite:///{folder / f'{name}.sqlite3'}",
        "KEYS_DIR": str(folder), "SECRET_KEY": "bench", "PAIRWISE_SECRET": "bench",
        "SERVER_NAME": "localhost", "RECOVERY_IDENTIFY_MIN_SECONDS": floor, **UNLIMITED,
    })
    with app.app_context():
        migrate.upgrade()
        person = Person(academic_id=identifiers.new_academic_id(), given_name_el="Ελένη",
                        family_name_el="Νικολάου")
        db.session().add(person)
        db.session().flush()
        account = Account(person_id=person.id, username="bench", domain="example.edu",
                          status="active", mobile="+306912345678")
        db.session().add(account)
        db.session().flush()
        accounts.set_password(account, "bench password 2026", actor="bench")
        db.session().commit()
    return app


def identify_seconds(app, username: str, mobile: str) -> float:
    client = app.test_client()
    token = TOKEN.search(client.get("/recovery").get_data(as_text=True)).group(1)
    started = time.perf_counter()
    response = client.post("/recovery", data={"csrf_token": token, "username": username,
                                              "mobile": mobile})
    elapsed = time.perf_counter() - started
    assert response.status_code == 303, response.status_code
    return elapsed


def second_step_seconds(app, value_for) -> float:
    client = app.test_client()
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"csrf_token": token, "username": "bench",
                                "password": "bench password 2026"})
    token = TOKEN.search(client.get("/login/second-factor").get_data(as_text=True)).group(1)
    value = value_for()
    started = time.perf_counter()
    response = client.post("/login/second-factor", data={"csrf_token": token, "code": value})
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    return elapsed


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 2),
            "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 2), "n": len(ordered)}


def bench_identify(folder: Path, floor: float, rounds: int) -> dict:
    app = make_app(folder, floor, f"identify-{floor}")
    kinds = {"known": ("bench", "6912345678"), "other_mobile": ("bench", "6999999999"),
             "unknown_username": ("nobody", "6912345678")}
    samples = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind, (username, mobile) in kinds.items():
            samples[kind].append(identify_seconds(app, username, mobile))
    return {kind: summary(values) for kind, values in samples.items()}


def bench_second_step(folder: Path, rounds: int) -> dict:
    app = make_app(folder, 0.0, "second-step")
    with app.test_request_context():
        account = db.session().scalar(sa.select(Account).where(Account.username == "bench"))
        secret = totp.begin_enrolment(account)
        db.session().commit()
        totp.confirm(account, pyotp.TOTP(secret).now())
        db.session().commit()
    steps = iter(range(1, 10**6))
    codes: list[str] = []

    def next_totp():  # a fresh time step each time: a used step is (rightly) refused
        app.config["CLOCK_OFFSET_SECONDS"] = 30 * next(steps)
        return pyotp.TOTP(secret).at(time.time() + app.config["CLOCK_OFFSET_SECONDS"])

    def next_recovery_code():
        if not codes:
            with app.test_request_context():
                account = db.session().scalar(sa.select(Account).where(Account.username == "bench"))
                codes.extend(totp.new_recovery_codes(account))
                db.session().commit()
        return codes.pop()

    return {"totp": summary([second_step_seconds(app, next_totp) for _ in range(rounds)]),
            "recovery_code": summary([second_step_seconds(app, next_recovery_code)
                                      for _ in range(rounds)])}


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        results = {
            "rounds": rounds,
            "identify_floor_0s": bench_identify(folder, 0.0, rounds),
            f"identify_floor_{Defaults.RECOVERY_IDENTIFY_MIN_SECONDS}s": bench_identify(
                folder, Defaults.RECOVERY_IDENTIFY_MIN_SECONDS, rounds),
            "second_step": bench_second_step(folder, rounds),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
