"""Federation metadata sources in /metrics (read at each scrape, see idp.metrics_state)."""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily

from idp import clock, db
from idp.saml.models import MetadataSource


def _seconds(moment, now) -> float:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (moment - now).total_seconds()


def metadata_state():
    now = clock.now()
    age = GaugeMetricFamily("kleidi_metadata_source_age_seconds",
                            "Since the last good copy was fetched (-1: never)", labels=["source"])
    valid = GaugeMetricFamily("kleidi_metadata_source_valid_seconds",
                              "Until the validUntil of the copy in use (negative: expired)",
                              labels=["source"])
    failing = GaugeMetricFamily("kleidi_metadata_source_failing",
                                "1 when the last refresh failed (its error: kleidi metadata "
                                "status)", labels=["source"])
    for source in db.session().scalars(sa.select(MetadataSource)).all():
        success = source.last_success_at
        age.add_metric([source.name], -1 if success is None else -_seconds(success, now))
        if source.valid_until is not None:
            valid.add_metric([source.name], _seconds(source.valid_until, now))
        failing.add_metric([source.name], 1 if source.last_error else 0)
    return [age, valid, failing]
