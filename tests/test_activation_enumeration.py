"""Whoever types a contact learns nothing from the answer: no account enumeration."""

from __future__ import annotations

import re
from datetime import date

import pytest
from test_activation_flow import amka_for, start, submit


def identify_answer(app, registration: str, **contact):
    client = app.test_client()
    flow = start(client)
    posted = submit(client, f"{flow}/identify", {"registration_id": registration,
                                                 "tin_country": "GR", **contact})
    page = client.get(posted.headers["Location"])
    return posted, page, flow


def normalized(text: str, flow: str) -> str:
    text = text.replace(flow.rsplit("/", 1)[1], "FLOW")
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", text)


@pytest.mark.parametrize("unknown", [
    {"registration": "00012345", "mobile": "+306999999999"},      # right record, other mobile
    {"registration": "00099999", "mobile": "+306912345678"},      # unknown registration
    {"registration": "00012345", "email": "someone@example.org"}, # right record, other email
])
def test_unknown_contacts_get_the_same_answer(app, make_registry_record, outbox, unknown):
    make_registry_record(ssn=amka_for(date(2004, 3, 9)))
    channel = "email" if "email" in unknown else "mobile"
    known_contact = {"mobile": "+306912345678", "email": "eleni.n@example.org"}[channel]
    known = identify_answer(app, "00012345", **{channel: known_contact})
    registration = unknown.pop("registration")
    other = identify_answer(app, registration, **unknown)
    for response_known, response_other in zip(known[:2], other[:2], strict=True):
        assert response_known.status_code == response_other.status_code
        assert (normalized(response_known.get_data(as_text=True), known[2])
                == normalized(response_other.get_data(as_text=True), other[2]))
    assert (known[0].headers["Location"].replace(known[2], "")
            == other[0].headers["Location"].replace(other[2], ""))
    assert len(outbox.messages) == 1  # only the registry's own contact got a PIN


def test_sms_goes_only_to_the_registry_number(app, make_registry_record, outbox):
    make_registry_record(mobile_phone="+306912345678")
    identify_answer(app, "00012345", mobile="6912345678")  # typed in national form
    identify_answer(app, "00012345", mobile="+306911111111")
    assert [m["to"] for m in outbox.messages] == ["+306912345678"]


@pytest.mark.settings(SMS_HOURLY_BUDGET=2)
def test_hourly_sms_budget_stops_sending_and_alerts(app, make_registry_record, outbox, caplog):
    for number in range(3):
        make_registry_record(registration=f"0000000{number}",
                             mobile_phone=f"+30691234567{number}")
        posted, _, _ = identify_answer(app, f"0000000{number}",
                                       mobile=f"+30691234567{number}")
        assert posted.status_code == 303
    assert len(outbox.messages) == 2
    assert "SMS hourly budget exhausted" in caplog.text
