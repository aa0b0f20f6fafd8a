"""Helpers for tests of recovery and contacts: post the forms of the flows."""

from __future__ import annotations

import re

NEW_PASSWORD = "correct horse battery staple 2026"


def post_form(client, csrf, url: str, data: dict, page_url: str | None = None):
    page = client.get(page_url or url)
    return client.post(url, data={"csrf_token": csrf(page), **data})


def ask_recovery(client, csrf, username: str, **contact):
    """The first step of recovery: username plus mobile or email."""
    return post_form(client, csrf, "/recovery", {"username": username, **contact})


def normalized(text: str, flow_url: str) -> str:
    """A page without what differs between any two runs: the flow id and the CSRF token."""
    flow_id = flow_url.rstrip("/").split("/")[-2]
    text = text.replace(flow_id, "FLOW")
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", text)


def recover(client, csrf, outbox, username: str, recipient: str, password=NEW_PASSWORD,
            **contact):
    """Run the whole recovery; returns the final response."""
    asked = ask_recovery(client, csrf, username, **contact)
    pin_url = asked.headers["Location"]
    checked = post_form(client, csrf, pin_url, {"pin": outbox.last_pin(recipient),
                                                "action": "verify"})
    password_url = checked.headers["Location"]
    return post_form(client, csrf, password_url, {"password": password,
                                                  "confirmation": password})
