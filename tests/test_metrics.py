"""/metrics: Prometheus' format, readable with the token or from the admin network only."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from idp import db, messaging

TOKEN = "a-long-random-metrics-token"


def scrape(client, token: str = TOKEN) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.settings(METRICS_TOKEN=TOKEN)
def test_requests_sign_ins_and_error_codes_are_counted(app, client, make_account, login):
    username, password = make_account()
    before = scrape(client)
    assert login(client, username, password).status_code == 303
    assert login(app.test_client(), username, "not the password at all").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    after = scrape(client)
    assert value(after, "kleidi_sign_ins_total", result="success") == \
        value(before, "kleidi_sign_ins_total", result="success") + 1
    assert value(after, "kleidi_sign_ins_total", result="wrong_password") == \
        value(before, "kleidi_sign_ins_total", result="wrong_password") + 1
    assert value(after, "kleidi_error_codes_shown_total", code="GEN-001") == \
        value(before, "kleidi_error_codes_shown_total", code="GEN-001") + 1
    posted = value(after, "kleidi_http_requests_total", endpoint="login.login", method="POST",
                   status="303") - value(before, "kleidi_http_requests_total",
                                         endpoint="login.login", method="POST", status="303")
    assert posted == 1
    assert value(after, "kleidi_http_request_duration_seconds_count", endpoint="login.login") > 0
    assert value(after, "kleidi_dependency_up", dependency="database") == 1
    assert value(after, "kleidi_dependency_up", dependency="store") == 1


@pytest.mark.settings(METRICS_TOKEN=TOKEN, SMS_HOURLY_BUDGET=50, OUTBOX_INPROCESS_WORKER=False)
def test_outbox_depth_and_sms_budget_are_read_when_scraped(app, client):
    with app.test_request_context():
        assert messaging.enqueue("sms", "+306912345678", "pin", "el", pin="123456", minutes=15)
        assert messaging.enqueue("email", "eleni@example.org", "pin", "en", pin="654321",
                                 minutes=15)
        db.session().commit()
    samples = scrape(client)
    assert value(samples, "kleidi_outbox_pending") == 2
    assert value(samples, "kleidi_outbox_oldest_pending_seconds") >= 0
    assert value(samples, "kleidi_sms_budget_per_hour") == 50
    assert value(samples, "kleidi_sms_budget_remaining") == 49
    assert value(samples, "kleidi_messages_queued_total", channel="sms", template="pin") >= 1


@pytest.mark.settings(METRICS_TOKEN=TOKEN)
def test_without_the_token_metrics_do_not_exist(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404


def test_metrics_are_off_unless_configured(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.settings(METRICS_NETWORKS=["10.0.5.0/24"])
def test_the_admin_network_reads_without_a_token(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.5.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.6.7"}).status_code == 404
