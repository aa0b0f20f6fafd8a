"""The key-value store with lifetimes: sessions, interactions, throttles, replay caches.

Redis when ``REDIS_URL`` is set (several app instances share it); otherwise a store inside
the process, which serves one process only. Values are JSON objects. Every key is prefixed
with ``STORE_PREFIX``.
"""

from __future__ import annotations

import json
import threading
import time
from typing import NamedTuple, Protocol
from urllib.parse import unquote, urlsplit

import redis
from flask import Flask, current_app
from redis.sentinel import Sentinel

from idp.config import ConfigurationError


class Issue(NamedTuple):
    """What :meth:`Store.redeem` puts when the value it replaced qualifies: ``value`` with the
    old value's ``copied`` fields, under ``key`` for ``ttl`` seconds, if the old value holds
    every item of ``requires``."""

    key: str
    value: dict
    ttl: int
    requires: dict
    copied: tuple[str, ...] = ()


class Store(Protocol):
    """What a store must do. Lifetimes are whole seconds; expired keys are absent."""

    def put(self, key: str, value: dict, ttl: int) -> None:
        """Set ``key`` to ``value`` for ``ttl`` seconds, replacing what was there."""

    def add(self, key: str, value: dict, ttl: int) -> bool:
        """Set ``key`` only if it is absent; True if this call set it."""

    def get(self, key: str) -> dict | int | None:
        """The value of ``key`` (a counter's is its count), or None."""

    def consume(self, key: str) -> dict | None:
        """Get and delete ``key`` atomically: of concurrent callers, exactly one gets it."""

    def swap(self, key: str, value: dict, ttl: int) -> dict | None:
        """Replace ``key``'s value (for ``ttl`` seconds) only if present, returning the old
        one: of concurrent callers, exactly one gets the value that was there first."""

    def redeem(self, key: str, value: dict, ttl: int, issue: Issue) -> dict | None:
        """``swap`` and, in the same atomic step, ``issue`` if the old value qualifies (see
        :class:`Issue`): one round trip where a swap and a put take two. Of concurrent
        callers exactly one gets the value that was there first, and only that one's
        ``issue`` can be put."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    def incr(self, key: str, ttl: int) -> int:
        """Add one to a counter; its lifetime starts at the first increment."""

    def ttl(self, key: str) -> int | None:
        """Seconds left for ``key``, or None if absent."""

    def ping(self) -> bool:
        """True if the store answers."""


class MemoryStore:
    """The embedded store: a dict guarded by a lock. One process only."""

    def __init__(self, prefix: str, now=time.monotonic):
        self.prefix = prefix
        self._now = now
        self._data: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str):
        item = self._data.get(self.prefix + key)
        if item is None or item[0] <= self._now():
            self._data.pop(self.prefix + key, None)
            return None
        return item

    def put(self, key, value, ttl):
        with self._lock:
            self._data[self.prefix + key] = (self._now() + ttl, json.dumps(value))

    def add(self, key, value, ttl):
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[self.prefix + key] = (self._now() + ttl, json.dumps(value))
            return True

    def get(self, key):
        with self._lock:
            item = self._live(key)
        return None if item is None else json.loads(item[1])

    def consume(self, key):
        with self._lock:
            item = self._live(key)
            self._data.pop(self.prefix + key, None)
        return None if item is None else json.loads(item[1])

    def swap(self, key, value, ttl):
        with self._lock:
            item = self._live(key)
            if item is not None:
                self._data[self.prefix + key] = (self._now() + ttl, json.dumps(value))
        return None if item is None else json.loads(item[1])

    def redeem(self, key, value, ttl, issue):
        with self._lock:
            item = self._live(key)
            if item is None:
                return None
            self._data[self.prefix + key] = (self._now() + ttl, json.dumps(value))
            old = json.loads(item[1])
            if isinstance(old, dict) and issue.requires.items() <= old.items():
                issued = {**issue.value, **{f: old[f] for f in issue.copied if f in old}}
                self._data[self.prefix + issue.key] = (self._now() + issue.ttl,
                                                       json.dumps(issued))
        return old

    def delete(self, key):
        with self._lock:
            self._data.pop(self.prefix + key, None)

    def incr(self, key, ttl):
        with self._lock:
            item = self._live(key)
            expires, count = (item[0], json.loads(item[1])) if item else (self._now() + ttl, 0)
            self._data[self.prefix + key] = (expires, json.dumps(count + 1))
            return count + 1

    def ttl(self, key):
        with self._lock:
            item = self._live(key)
        return None if item is None else max(0, round(item[0] - self._now()))

    def ping(self):
        return True

    def clear(self):
        with self._lock:
            self._data.clear()


# Store.redeem in one script: Redis runs it atomically, one round trip. KEYS: the swapped key,
# the issued key; ARGV: new value, its ttl, requires (JSON object), the issued value, its ttl,
# the copied fields (JSON array).
REDEEM = """
local old = redis.call('GET', KEYS[1])
if not old then return false end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local ok, record = pcall(cjson.decode, old)
if not ok or type(record) ~= 'table' then return old end
for field, value in pairs(cjson.decode(ARGV[3])) do
  if record[field] ~= value then return old end
end
local issued = cjson.decode(ARGV[4])
for _, field in ipairs(cjson.decode(ARGV[6])) do issued[field] = record[field] end
redis.call('SET', KEYS[2], cjson.encode(issued), 'EX', ARGV[5])
return old
"""


#: Seconds a Redis command (or a connection) may take before the request answers 503.
REDIS_TIMEOUT_SECONDS = 5


def connect(url: str) -> redis.Redis:
    """A client for ``url``: redis://, rediss:// or unix:// for one server, or
    ``redis+sentinel://[:password@]host:port[,host:port...]/service[/db]`` for the master
    that the Sentinels name (a failover is followed without a restart)."""
    if not url.startswith("redis+sentinel://"):
        return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise ValueError(f"a Sentinel is host:port, not {host!r}")
        sentinels.append((name, int(port)))
    path = [piece for piece in parts.path.split("/") if piece]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("the path is /service or /service/db")
    options = {"socket_timeout": REDIS_TIMEOUT_SECONDS,
               "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}
    if parts.password:
        options["password"] = unquote(parts.password)
    sentinel = Sentinel(sentinels, sentinel_kwargs=dict(options), **options)
    client = sentinel.master_for(path[0], db=int(path[1]) if len(path) == 2 else 0)
    client.sentinels = sentinel.sentinels  # closed with it (see RedisStore.close)
    return client


class RedisStore:
    """The production store: one Redis shared by every app instance."""

    def __init__(self, url: str, prefix: str):
        self.prefix = prefix
        self.redis = connect(url)
        self._redeem = self.redis.register_script(REDEEM)

    def put(self, key, value, ttl):
        self.redis.set(self.prefix + key, json.dumps(value), ex=ttl)

    def add(self, key, value, ttl):
        return bool(self.redis.set(self.prefix + key, json.dumps(value), ex=ttl, nx=True))

    def get(self, key):
        raw = self.redis.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def consume(self, key):
        raw = self.redis.getdel(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def swap(self, key, value, ttl):
        raw = self.redis.set(self.prefix + key, json.dumps(value), ex=ttl, xx=True, get=True)
        return None if raw is None else json.loads(raw)

    def redeem(self, key, value, ttl, issue):
        raw = self._redeem(keys=[self.prefix + key, self.prefix + issue.key], args=[
            json.dumps(value), ttl, json.dumps(issue.requires), json.dumps(issue.value),
            issue.ttl, json.dumps(list(issue.copied))])
        return None if raw is None else json.loads(raw)

    def delete(self, key):
        self.redis.delete(self.prefix + key)

    def incr(self, key, ttl):
        with self.redis.pipeline() as pipe:
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, ttl, nx=True)
            count, _ = pipe.execute()
        return int(count)

    def ttl(self, key):
        left = self.redis.ttl(self.prefix + key)
        return None if left < 0 else left

    def ping(self):
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False

    def close(self):
        """Close the connections (the Sentinels' too)."""
        self.redis.close()
        for sentinel in getattr(self.redis, "sentinels", ()):
            sentinel.close()

    def clear(self):
        """Delete every key under this store's prefix (tests)."""
        for key in self.redis.scan_iter(match=self.prefix + "*", count=500):
            self.redis.delete(key)


def init_app(app: Flask) -> None:
    """Attach the configured store to the app."""
    prefix = app.config["STORE_PREFIX"]
    if app.config["REDIS_URL"]:
        try:
            app.extensions["kleidi.store"] = RedisStore(app.config["REDIS_URL"], prefix)
        except ValueError as error:
            raise ConfigurationError(
                "KLEIDI_REDIS_URL must be redis://host:port/db, rediss://..., unix://... or "
                f"redis+sentinel://host:port[,host:port]/service/db ({error})") from None
    else:
        app.extensions["kleidi.store"] = MemoryStore(prefix)


def store() -> Store:
    """The current app's store."""
    return current_app.extensions["kleidi.store"]
