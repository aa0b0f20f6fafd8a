"""The one source of the current time, so that tests can move it.

Tests move time with the ``clock`` fixture, which sets ``CLOCK_OFFSET_SECONDS`` in the app's
configuration; production code always asks :func:`now`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    moment = datetime.now(UTC)
    if has_app_context():
        offset = current_app.config.get("CLOCK_OFFSET_SECONDS", 0)
        if offset:
            moment += timedelta(seconds=offset)
    return moment


def timestamp() -> int:
    """The current time in whole seconds since the epoch."""
    return int(now().timestamp())
