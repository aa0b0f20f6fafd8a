"""The key-value store seam, on whichever backend the run uses."""

import threading
import time

from idp.store import Issue, store


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


def _issue(key: str, client: str = "rp-1"):
    return Issue(key, {"grant": "g-" + key}, 30, requires={"client": client},
                 copied=("account", "scope"))


def test_redeem_swaps_and_issues_from_a_qualifying_value_only(ctx):
    assert store().redeem("absent", {"used": 1}, 60, _issue("never")) is None
    assert store().get("absent") is None and store().get("never") is None
    store().put("code", {"client": "rp-1", "account": 7, "scope": "openid", "other": "x"}, 60)
    old = store().redeem("code", {"used": 1}, 90, _issue("token"))
    assert old == {"client": "rp-1", "account": 7, "scope": "openid", "other": "x"}
    assert store().get("code") == {"used": 1} and 60 < store().ttl("code") <= 90
    assert store().get("token") == {"grant": "g-token", "account": 7, "scope": "openid"}
    assert 0 < store().ttl("token") <= 30
    # Taken already (the marker does not qualify), or offered by another client: swapped,
    # and nothing issued.
    assert store().redeem("code", {"used": 2}, 90, _issue("again")) == {"used": 1}
    assert store().get("again") is None and store().get("code") == {"used": 2}
    store().put("code2", {"client": "rp-1", "account": 8}, 60)
    assert store().redeem("code2", {"used": 3}, 90, _issue("other", client="rp-2"))["account"] == 8
    assert store().get("other") is None and store().get("code2") == {"used": 3}


def test_redeem_issues_once_under_concurrency(app):
    with app.app_context():
        store().put("code", {"client": "rp-1", "account": 7}, 60)
    olds, barrier = [], threading.Barrier(8)

    def redeem(number):
        with app.app_context():
            barrier.wait()
            olds.append(store().redeem("code", {"used": number}, 60, _issue(f"t{number}")))

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [old for old in olds if "client" in old] == [{"client": "rp-1", "account": 7}]
    with app.app_context():
        issued = [n for n in range(8) if store().get(f"t{n}") is not None]
        assert len(issued) == 1 and store().get(f"t{issued[0]}")["account"] == 7
