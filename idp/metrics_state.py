"""The metrics read when ``/metrics`` is scraped (see :mod:`idp.metrics`): the outbox, the SMS
budget, and what areas add with :func:`add_state` (the SAML area: its metadata sources)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlalchemy as sa
from flask import Flask
from prometheus_client.core import GaugeMetricFamily

from idp import clock, db, outages
from idp.messaging import outbox
from idp.store import store


def add_state(app: Flask, reader: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
    """Have every scrape call ``reader()`` (in an app context) for metric families it reads
    from the database or the store at that moment."""
    app.extensions.setdefault("kleidi.metrics_state", []).append(reader)


def outbox_state() -> Iterable[GaugeMetricFamily]:
    row = db.session().execute(sa.select(
        sa.func.count(), sa.func.min(outbox.OutboxMessage.created_at)).where(
        outbox.OutboxMessage.status == outbox.PENDING)).one()
    depth, oldest = row
    yield GaugeMetricFamily("kleidi_outbox_pending", "Messages waiting for delivery", depth)
    age = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=clock.now().tzinfo)
        age = max(0.0, (clock.now() - oldest).total_seconds())
    yield GaugeMetricFamily("kleidi_outbox_oldest_pending_seconds",
                            "Age of the oldest message waiting for delivery (0: none)", age)


def sms_budget_state(budget: int) -> Iterable[GaugeMetricFamily]:
    used = store().get(f"sms:budget:{clock.now().strftime('%Y%m%d%H')}") or 0
    yield GaugeMetricFamily("kleidi_sms_budget_per_hour", "SMS_HOURLY_BUDGET", budget)
    yield GaugeMetricFamily("kleidi_sms_budget_remaining", "SMS that may still be sent this hour",
                            max(0, budget - int(used)))


class StateCollector:
    """Reads the state of ``app`` at each scrape; a dependency that is down gives
    ``kleidi_state_readable 0`` (its reason in ``kleidi_dependency_up``), not a failed scrape."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        readers = [outbox_state,
                   lambda: sms_budget_state(self.app.config["SMS_HOURLY_BUDGET"]),
                   *self.app.extensions.get("kleidi.metrics_state", [])]
        up = {"database": 1, "store": 1}
        for reader in readers:
            try:
                yield from list(reader())
            except outages.CANDIDATES as error:
                dependency = outages.dependency_of(error)
                if dependency is None:
                    raise
                up[dependency] = 0
                db.session().rollback()
        family = GaugeMetricFamily("kleidi_dependency_up", "The dependency answered this scrape",
                                   labels=["dependency"])
        for name, value in up.items():
            family.add_metric([name], value)
        yield family
