"""PINs: lifetime, single use under concurrency, the try limit, resends and sending limits."""

from __future__ import annotations

import logging
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from conftest import csrf_token
from test_activation_flow import amka_for, enter_pin, identify, start, submit

from idp import db
from idp.audit import AuditEvent
from idp.credentials import pins
from idp.credentials.pins import Pin
from idp.messaging.outbox import OutboxMessage

MOBILE = "+306912345678"


@pytest.fixture
def registry(make_registry_record):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))


def pin_page(client, outbox):
    flow = start(client)
    identify(client, flow, "00012345", mobile=MOBILE)
    return flow, outbox.last_pin(MOBILE)


def test_pin_is_six_digits_and_stored_only_as_a_keyed_hash(app, client, outbox, registry):
    flow, pin = pin_page(client, outbox)
    assert len(pin) == 6 and pin.isdigit()
    with app.app_context():
        stored = db.session().scalars(sa.select(Pin)).one()
        assert pin not in stored.digest and len(stored.digest) == 64
        assert stored.digest == pins.digest(stored.flow_id, "activation", pin)
        assert stored.digest != pins.digest(stored.flow_id, "recovery", pin)
        message = db.session().scalars(sa.select(OutboxMessage)).one()
        assert message.status == "sent" and message.body_encrypted is None


def test_pin_works_until_fifteen_minutes(app, client, clock, outbox, registry):
    flow, pin = pin_page(client, outbox)
    clock.advance(15 * 60 - 2)
    accepted = enter_pin(client, flow, pin)
    assert accepted.status_code == 303 and accepted.headers["Location"].endswith(f"{flow}/review")


def test_pin_expires_after_fifteen_minutes(app, client, clock, outbox, registry):
    flow, pin = pin_page(client, outbox)
    clock.advance(15 * 60 + 1)
    response = enter_pin(client, flow, pin)
    assert response.status_code == 400 and "Το PIN έληξε" in response.get_data(as_text=True)
    submit(client, f"{flow}/pin", {"action": "resend"})
    assert enter_pin(client, flow, outbox.last_pin(MOBILE)).status_code == 303


def test_resend_invalidates_the_previous_pin(app, client, outbox, registry):
    flow, first = pin_page(client, outbox)
    response = submit(client, f"{flow}/pin", {"action": "resend"})
    assert response.status_code == 303 and "resent=1" in response.headers["Location"]
    second = outbox.last_pin(MOBILE)
    assert len(outbox.to(MOBILE)) == 2
    if first != second:
        assert enter_pin(client, flow, first).status_code == 400
    assert enter_pin(client, flow, second).status_code == 303


def test_five_wrong_pins_end_the_flow(app, client, outbox, registry):
    flow, pin = pin_page(client, outbox)
    wrong = f"{(int(pin) + 1) % 10 ** 6:06d}"
    for left in ("απομένουν: 4", "απομένουν: 3", "απομένουν: 2", "απομένουν: 1"):
        response = enter_pin(client, flow, wrong)
        assert response.status_code == 400 and left in response.get_data(as_text=True)
    final = enter_pin(client, flow, wrong)
    assert final.status_code == 403 and "PIN-002" in final.get_data(as_text=True)
    blocked = client.get(f"{flow}/pin")
    assert blocked.status_code == 403 and "FLOW-004" in blocked.get_data(as_text=True)
    with app.app_context():
        events = db.session().scalars(sa.select(AuditEvent.event)).all()
    assert events == ["pin.attempts_exhausted"]


def test_a_pin_of_another_flow_does_not_work(app, client, outbox, registry):
    _, pin = pin_page(client, outbox)
    other = app.test_client()
    flow = start(other)
    identify(other, flow, "00099999", mobile="+306900000000")  # unknown: no PIN sent
    refused = enter_pin(other, flow, pin)
    assert refused.status_code == 400 and "απομένουν: 4" in refused.get_data(as_text=True)


def test_two_simultaneous_correct_pins_exactly_one_wins(app, client, outbox, registry):
    flow, pin = pin_page(client, outbox)
    token = csrf_token(client.get(f"{flow}/pin"))
    twin = app.test_client()
    twin.set_cookie(app.config["SESSION_COOKIE_NAME"],
                    client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    barrier, statuses = threading.Barrier(2), []

    def submit_pin(browser):
        barrier.wait()
        response = browser.post(f"{flow}/pin", data={"csrf_token": token, "pin": pin,
                                                      "action": "verify"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=submit_pin, args=(b,)) for b in (client, twin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses)[0] == 303 and statuses.count(303) == 1


def test_consume_is_atomic_across_many_callers(app, client, outbox, registry):
    pin_page(client, outbox)
    with app.app_context():
        pin_id = db.session().scalar(sa.select(Pin.id))
    barrier, wins = threading.Barrier(6), []

    def consume():
        with app.app_context():
            pin = db.session().get(Pin, pin_id)
            barrier.wait()
            try:
                won = pins.consume(pin)
                db.session().commit()
            except sa.exc.OperationalError:  # SQLite may refuse a concurrent writer
                won = False
            wins.append(won)

    threads = [threading.Thread(target=consume) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1


@pytest.mark.settings(PIN_RESENDS_PER_FLOW=2)
def test_resends_per_flow_are_limited(app, client, outbox, registry):
    flow, _ = pin_page(client, outbox)
    for _ in range(2):
        assert submit(client, f"{flow}/pin", {"action": "resend"}).status_code == 303
    refused = submit(client, f"{flow}/pin", {"action": "resend"})
    assert refused.status_code == 429 and "PIN-001" in refused.get_data(as_text=True)
    assert len(outbox.to(MOBILE)) == 3


@pytest.mark.parametrize("window", ["HOUR", "DAY"])
def test_sends_per_contact_are_limited(app, client, outbox, registry, window):
    app.config.update({"PIN_SENDS_PER_CONTACT_HOUR": 100, "PIN_SENDS_PER_CONTACT_DAY": 100,
                       f"PIN_SENDS_PER_CONTACT_{window}": 2})
    for _ in range(2):
        pin_page(app.test_client(), outbox)
    flow = start(client)
    response = submit(client, f"{flow}/identify", {"registration_id": "00012345",
                                                   "mobile": MOBILE, "tin_country": "GR"})
    assert response.status_code == 429 and "PIN-001" in response.get_data(as_text=True)
    assert len(outbox.to(MOBILE)) == 2


@pytest.mark.settings(PIN_SENDS_PER_IP_HOUR=2)
def test_sends_per_address_are_limited(app, client, outbox):
    statuses = []
    for number in range(3):
        flow = start(client)
        response = submit(client, f"{flow}/identify", {
            "registration_id": "1", "mobile": f"+30691000000{number}", "tin_country": "GR"})
        statuses.append(response.status_code)
    assert statuses == [303, 303, 429]


def test_no_pin_in_logs_urls_or_stored_messages(app, client, outbox, registry, caplog,
                                                capfd):
    caplog.set_level(logging.DEBUG)
    flow, pin = pin_page(client, outbox)
    response = enter_pin(client, flow, f"{(int(pin) + 1) % 10 ** 6:06d}")
    response = enter_pin(client, flow, pin)
    assert pin not in response.headers["Location"]
    logged = caplog.text + "".join(capfd.readouterr())
    assert "message sent" in logged and pin not in logged
    with app.app_context():
        assert db.session().scalars(sa.select(OutboxMessage.body_encrypted)).all() == [None]
