"""The key-value store seam, on whichever backend the run uses."""

import threading
import time

from idp.store import store


def test_put_get_delete(ctx):
    store().put("k", {"a": 1}, 60)
    assert store().get("k") == {"a": 1}
    store().delete("k")
    assert store().get("k") is None


def test_consume_is_atomic_under_concurrency(app):
    with app.app_context():
        store().put("once", {"v": 1}, 60)
    winners, barrier = [], threading.Barrier(8)

    def take():
        with app.app_context():
            barrier.wait()
            if store().consume("once") is not None:
                winners.append(1)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners == [1]


def test_swap_replaces_only_a_present_value_and_hands_back_the_old_one(app):
    with app.app_context():
        assert store().swap("absent", {"v": 2}, 60) is None
        assert store().get("absent") is None
        store().put("k", {"v": 1}, 60)
    olds, barrier = [], threading.Barrier(8)

    def swap():
        with app.app_context():
            barrier.wait()
            olds.append(store().swap("k", {"v": 2}, 60))

    threads = [threading.Thread(target=swap) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(olds, key=str) == [{"v": 1}] + [{"v": 2}] * 7
    with app.app_context():
        assert store().get("k") == {"v": 2} and 0 < store().ttl("k") <= 60


def test_add_only_when_absent(ctx):
    assert store().add("jti", {}, 60) is True
    assert store().add("jti", {}, 60) is False


def test_counters_and_lifetimes(ctx):
    assert [store().incr("c", 60) for _ in range(3)] == [1, 2, 3]
    assert store().get("c") == 3
    assert 0 < store().ttl("c") <= 60
    store().put("short", {}, 1)
    time.sleep(1.1)
    assert store().get("short") is None and store().ttl("short") is None
