"""Does the identify step take as long for an unknown contact as for a known one?

Times the POST of the identify form (known registration and mobile vs. an unknown mobile),
alternating, on the embedded defaults, and writes medians and 90th percentiles to
bench/results/activation_identify.json. Bounded: ROUNDS requests of each kind.

    .venv/bin/python bench/activation_identify.py [ROUNDS]
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from idp import create_app, db, keys, migrate
from idp.identity.models import RegistryRecord

RESULTS = Path(__file__).resolve().parent / "results" / "activation_identify.json"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def make_app(folder: Path, floor: float):
    keys.ensure_dev_keys(folder)
    app = create_app({
        "ENV": "testing", "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "KEYS_DIR": str(folder), "SECRET_KEY": "bench", "PAIRWISE_SECRET": "bench",
        "SERVER_NAME": "localhost", "PIN_SENDS_PER_CONTACT_HOUR": 10**6,
        "PIN_SENDS_PER_CONTACT_DAY": 10**6, "PIN_SENDS_PER_IP_HOUR": 10**6,
        "PIN_SENDS_PER_IP_DAY": 10**6, "SMS_HOURLY_BUDGET": 10**6,
        "ACTIVATION_IDENTIFY_MIN_SECONDS": floor,
    })
    with app.app_context():
        migrate.upgrade()
        db.session().add(RegistryRecord(
            source_registry="students", registration_id="00012345", department_id="1512",
            first_name_el="Ελένη", last_name_el="Νικολάου", role="undergraduate",
            enrollment_type="undergraduate", enrollment_status="active",
            birth_date=date(2004, 3, 9), mobile_phone="+306912345678"))
        db.session().commit()
    return app


def identify_seconds(app, mobile: str) -> float:
    client = app.test_client()
    page = client.get("/activate/")
    started = client.post("/activate/", data={"csrf_token": TOKEN.search(page.text).group(1),
                                              "role": "student"})
    flow = started.headers["Location"]
    page = client.get(flow)
    data = {"csrf_token": TOKEN.search(page.text).group(1), "registration_id": "00012345",
            "mobile": mobile, "tin_country": "GR"}
    begin = time.perf_counter()
    response = client.post(flow, data=data)
    elapsed = time.perf_counter() - begin
    assert response.status_code == 303
    return elapsed


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 3),
            "p90_ms": round(ordered[int(len(ordered) * 0.9)] * 1000, 3), "n": len(ordered)}


def measure(rounds: int, floor: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), floor)
        known, unknown = [], []
        for number in range(rounds):  # alternate which goes first, so order cannot bias
            pair = [(known, "+306912345678"), (unknown, "+306999999999")]
            for samples, mobile in pair[:: 1 if number % 2 else -1]:
                samples.append(identify_seconds(app, mobile))
    result = {"known_contact": summary(known), "unknown_contact": summary(unknown)}
    result["median_difference_ms"] = round(
        result["known_contact"]["median_ms"] - result["unknown_contact"]["median_ms"], 3)
    return result


def main(rounds: int = 200) -> None:
    result = {"backend": "sqlite + in-process store", "rounds": rounds,
              "with_floor_0.1s": measure(rounds, 0.1), "without_floor": measure(rounds, 0.0)}
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
