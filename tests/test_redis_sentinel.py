"""Redis behind Sentinel (redis+sentinel:// URLs): the store follows the master the Sentinels
name, through a failover, without a restart. Real servers on loopback, made for the test."""

from __future__ import annotations

import time

import pytest
from private_services import PrivateRedis, PrivateSentinel

from idp import store
from idp.config import ConfigurationError


@pytest.fixture
def replicated():
    master = PrivateRedis()
    replica = PrivateRedis("--replicaof", "127.0.0.1", str(master.port))
    sentinel = PrivateSentinel(master.port)
    yield master, replica, sentinel
    sentinel.remove()
    replica.remove()
    master.remove()


def test_the_store_follows_a_failover(replicated):
    master, replica, sentinel = replicated
    kept = store.RedisStore(f"redis+sentinel://127.0.0.1:{sentinel.port}/kleidi/0", "t:")
    try:
        kept.put("session:one", {"account_id": 7}, 600)
        assert kept.get("session:one") == {"account_id": 7}
        assert kept.redis.connection_pool.get_master_address() == ("127.0.0.1", master.port)
        _until(lambda: replica_has(replica, "t:session:one"))
        # the Sentinel learns of replicas from the master's INFO (every 10 s): one it does not
        # know of yet when the master stops could never be promoted
        _until(lambda: sentinel_knows(sentinel, replica), seconds=30)
        master.stop()
        deadline = time.monotonic() + 60
        while True:  # the Sentinel sees the master down after 1 s, then promotes the replica
            try:
                assert kept.get("session:one") == {"account_id": 7}
                kept.put("session:two", {"account_id": 8}, 600)
                break
            except store.redis.RedisError:
                assert time.monotonic() < deadline, "no failover within a minute"
                time.sleep(0.5)
        assert kept.redis.connection_pool.get_master_address() == ("127.0.0.1", replica.port)
        assert kept.get("session:two") == {"account_id": 8}
    finally:
        kept.close()


def replica_has(replica, key: str) -> bool:
    client = store.redis.Redis(port=replica.port)
    try:
        return client.exists(key) == 1
    finally:
        client.close()


def sentinel_knows(sentinel, replica) -> bool:
    client = store.redis.Redis(port=sentinel.port)
    try:
        return any(int(found["port"]) == replica.port and not found.get("is_disconnected")
                   for found in client.sentinel_slaves("kleidi"))
    finally:
        client.close()


def _until(check, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.parametrize("url", ["redis+sentinel://127.0.0.1/kleidi",
                                 "redis+sentinel://127.0.0.1:26379/",
                                 "redis+sentinel://127.0.0.1:26379/kleidi/zero"])
def test_a_malformed_sentinel_url_is_named(url, base_settings):
    from idp import create_app

    with pytest.raises(ConfigurationError, match="KLEIDI_REDIS_URL must be"):
        create_app({**base_settings, "REDIS_URL": url})

