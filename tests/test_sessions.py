"""SSO session lifetimes."""

import pytest


@pytest.mark.settings(SESSION_IDLE_SECONDS=600, SESSION_TOUCH_SECONDS=0)
def test_an_unused_session_ends_after_the_idle_time(client, clock, make_account, login):
    username, password = make_account()
    login(client, username, password)
    clock.advance(590)
    assert client.get("/").status_code == 200      # use keeps it alive...
    clock.advance(590)
    assert client.get("/").status_code == 200
    clock.advance(601)                              # ...idleness ends it
    assert client.get("/").status_code == 302


@pytest.mark.settings(SESSION_IDLE_SECONDS=600, SESSION_ABSOLUTE_SECONDS=1500,
                      SESSION_TOUCH_SECONDS=0)
def test_no_session_outlives_the_absolute_lifetime(client, clock, make_account, login):
    username, password = make_account()
    login(client, username, password)
    for _ in range(2):
        clock.advance(500)
        assert client.get("/").status_code == 200
    clock.advance(501)
    assert client.get("/").status_code == 302


def test_a_forged_session_cookie_is_not_a_session(app, make_account):
    client = app.test_client()
    client.set_cookie("kleidi_session", "forged-value", domain="localhost")
    assert client.get("/").status_code == 302


def test_the_store_holds_no_usable_cookie(app, client, make_account, login):
    username, password = make_account()
    login(client, username, password)
    sid = client.get_cookie("kleidi_session").value
    store = app.extensions["kleidi.store"]
    keys = (list(store._data) if hasattr(store, "_data")
            else [k.decode() for k in store.redis.scan_iter(match=store.prefix + "*")])
    assert keys and not any(sid in key for key in keys)
