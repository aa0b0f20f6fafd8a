"""Login throttling that a stranger cannot turn into a lockout of someone else.

Failures are counted per (username, client address) and per client address. Past a
threshold, each further failure doubles a waiting time before the next attempt from that
address is even evaluated. Nothing ever locks an account: the owner, from their own
address, is not affected by failures elsewhere.
"""

from __future__ import annotations

import hashlib
import math

from flask import current_app

from idp import clock
from idp.store import store


def _keys(username: str, ip: str) -> list[tuple[str, int]]:
    config = current_app.config
    user_ip = hashlib.sha256(f"{username.strip().lower()}\n{ip}".encode()).hexdigest()
    return [
        (f"throttle:user-ip:{user_ip}", config["LOGIN_FAILURES_PER_USER_IP"]),
        (f"throttle:ip:{ip}", config["LOGIN_FAILURES_PER_IP"]),
    ]


def wait_seconds(username: str, ip: str) -> int:
    """Seconds to wait before an attempt for ``username`` from ``ip`` is evaluated (0: go)."""
    waits = []
    for key, _limit in _keys(username, ip):
        block = store().get(key + ":until")
        if block:
            waits.append(block["until"] - clock.now().timestamp())
    # Whole seconds, rounded up: waiting what was announced is always enough.
    return max(0, math.ceil(max(waits, default=0)))


def failed(username: str, ip: str) -> None:
    """Count a failure; past the threshold, the next attempt waits 1, 2, 4, ... seconds."""
    config = current_app.config
    window = config["LOGIN_FAILURE_WINDOW_SECONDS"]
    for key, limit in _keys(username, ip):
        count = store().incr(key, window)
        if count >= limit:
            delay = min(2 ** (count - limit), config["LOGIN_MAX_BACKOFF_SECONDS"])
            until = clock.now().timestamp() + delay
            store().put(key + ":until", {"until": until}, delay + 1)


def succeeded(username: str, ip: str) -> None:
    """A success clears the (username, address) count, not the address-wide one."""
    key, _limit = _keys(username, ip)[0]
    store().delete(key)
    store().delete(key + ":until")
