"""Password-guessing defences that a stranger cannot turn into a lockout of the owner.

Three counters slow guessing down, each by a waiting time that doubles with every failure
past its threshold (1 s, 2 s, 4 s ... up to LOGIN_MAX_BACKOFF_SECONDS):

* per (username, client address) and per client address, over LOGIN_FAILURE_WINDOW_SECONDS:
  one address guessing one account, or spraying many;
* per username, for every browser it never signed in with, whatever its address: a
  distributed guesser shares one backoff, starting after LOGIN_FAILURES_PER_ACCOUNT failures
  (the owner is then told), and after LOGIN_MAX_FAILURES_PER_ACCOUNT consecutive failures
  (NIST SP 800-63B 5.2.2) such browsers are refused until a sign-in succeeds, the password is
  set anew or LOGIN_ACCOUNT_FAILURE_MEMORY_SECONDS pass.

A browser that signed in to the account before (its device cookie, :mod:`devices`) skips all
three: failures elsewhere never slow the owner down. Its own wrong passwords are counted on
its token instead. Counters are keyed by the username as typed (normalised), existing or not,
so that the answers never tell which accounts exist. State lives in the store, shared by every
instance; an attempt takes its turn atomically before the password is checked, so parallel
requests cannot slip past a backoff.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from flask import current_app

from idp import clock
from idp.credentials import devices
from idp.store import store


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is not evaluated: its error code (LOGIN-002: this address, LOGIN-007: the
    account's backoff, LOGIN-008: too many failures) and the seconds to wait (0: waiting will
    not help)."""

    code: str
    wait: int


@dataclass(frozen=True)
class Attempt:
    """One password attempt at login, as the throttles admitted (or refused) it."""

    username: str
    ip: str
    #: The nonce of the browser's device token for this username; None for unknown browsers.
    device: str | None
    refusal: Refusal | None = None
    #: For unknown browsers: this attempt's place in the account's run of failures.
    number: int = 0


@dataclass(frozen=True)
class AccountThrottle:
    """What the per-account defence holds for a username (what `kleidi throttle show` prints)."""

    #: Consecutive failures from unknown browsers (attempts being checked included).
    failures: int
    #: Seconds before an unknown browser may try again (0: now, or never if blocked).
    wait: int
    #: Unknown browsers are refused until a success or a new password.
    blocked: bool
    #: Seconds until the failures are forgotten anyway (0: none are held).
    forgotten_in: int


# -- Login: every defence --------------------------------------------------------------------

def begin_login(username: str, ip: str) -> Attempt:
    """Admit or refuse a login attempt before its password is checked."""
    device = devices.known(username)
    if device is not None:
        return Attempt(username, ip, device)
    wait = wait_seconds(username, ip)
    if wait > 0:
        return Attempt(username, ip, None, Refusal("LOGIN-002", wait))
    number, refusal = _take_turn(username)
    return Attempt(username, ip, None, refusal, number)


def login_failed(attempt: Attempt) -> bool:
    """Count a wrong password; True when this failure starts the account's backoff."""
    if attempt.device is not None:
        devices.failed(attempt.device)
        return False
    failed(attempt.username, attempt.ip)
    return attempt.number == current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]


def login_succeeded(attempt: Attempt) -> None:
    """The password was right: an unknown browser's success ends the account's run too."""
    succeeded(attempt.username, attempt.ip)
    if attempt.device is None:
        forget_account(attempt.username)


# -- Per account, for unknown browsers -------------------------------------------------------

def account_state(username: str) -> AccountThrottle:
    """The per-account defence's state for ``username`` (existing or not)."""
    key = _account_key(username)
    failures = store().get(key) or 0
    refusal = _account_refusal(key, failures)
    return AccountThrottle(
        failures=failures, wait=refusal.wait if refusal else 0,
        blocked=refusal is not None and refusal.code == "LOGIN-008",
        forgotten_in=(store().ttl(key) or 0) if failures else 0)


def forget_account(username: str) -> None:
    """End the account's run of failures (a success, a new password, the helpdesk)."""
    key = _account_key(username)
    store().delete(key)
    store().delete(key + ":last")


def _take_turn(username: str) -> tuple[int, Refusal | None]:
    """Reserve this attempt's place in the account's run (counted as a failure until it
    succeeds); refuse it if the run is over its limits."""
    config = current_app.config
    key = _account_key(username)
    failures = store().get(key) or 0
    refusal = _account_refusal(key, failures)
    if refusal is not None:
        return 0, refusal
    memory = config["LOGIN_ACCOUNT_FAILURE_MEMORY_SECONDS"]
    number = store().incr(key, memory)
    if number >= config["LOGIN_FAILURES_PER_ACCOUNT"]:  # from here on, the next waits for it
        store().put(key + ":last", {"at": clock.now().timestamp()}, memory)
    if number > config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return number, Refusal("LOGIN-008", 0)
    if number > config["LOGIN_FAILURES_PER_ACCOUNT"] and number != failures + 1:
        # A parallel attempt took this turn between our read and our increment.
        return number, Refusal("LOGIN-007", _backoff(number - 1))
    return number, None


def _account_refusal(key: str, failures: int) -> Refusal | None:
    config = current_app.config
    if failures >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return Refusal("LOGIN-008", 0)
    if failures < config["LOGIN_FAILURES_PER_ACCOUNT"]:
        return None
    last = (store().get(key + ":last") or {}).get("at", 0)
    wait = math.ceil(last + _backoff(failures) - clock.now().timestamp())
    return Refusal("LOGIN-007", wait) if wait > 0 else None


def _backoff(failures: int) -> int:
    """Seconds between attempts once ``failures`` reached the account threshold."""
    config = current_app.config
    exponent = max(0, failures - config["LOGIN_FAILURES_PER_ACCOUNT"])
    return min(2 ** min(exponent, 32), config["LOGIN_MAX_BACKOFF_SECONDS"])


def _account_key(username: str) -> str:
    return "throttle:account:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()


# -- Per (username, address) and per address -------------------------------------------------

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
