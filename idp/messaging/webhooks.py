"""Signed webhooks to subscribed systems (the mail server, the VPN...), through the outbox.

:func:`publish` writes one outbox message per subscriber in the caller's transaction, so an
event is delivered only if the change it tells of was committed, and delivered again (with
backoff) until the subscriber answers 2xx. Subscribers are configuration (``WEBHOOKS``):
``{name: {"url": ..., "secret": ..., "events": ["service.*", "account.*"]}}``.

Each request is signed as Standard Webhooks does it: headers ``webhook-id`` (the event's id:
the same on every retry, for the subscriber's idempotency), ``webhook-timestamp`` and
``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>")).
A secret written ``whsec_<base64>`` is used decoded, any other as its UTF-8 bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from fnmatch import fnmatchcase

from flask import current_app

from idp import clock
from idp.messaging import outbox
from idp.messaging.gateways import DeliveryError, Outgoing

CHANNEL = "webhook"


def publish(event: str, account=None, **data) -> int:
    """Queue ``event`` (about ``account``) for every subscriber of it; how many."""
    payload = {"id": str(uuid.uuid4()), "type": event, "occurred_at": clock.now().isoformat(),
               "data": data}
    if account is not None:
        payload["account"] = {"username": account.username, "eppn": account.eppn}
    body = json.dumps(payload, sort_keys=True, default=str)
    queued = 0
    for name, subscriber in current_app.config["WEBHOOKS"].items():
        if any(fnmatchcase(event, pattern) for pattern in subscriber.get("events", ["*"])):
            outbox.add(CHANNEL, name, event, body, CHANNEL)
            queued += 1
    return queued


def signature(secret: str, webhook_id: str, timestamp: str, body: str) -> str:
    """The ``webhook-signature`` header value of a request."""
    key = (base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_")
           else secret.encode())
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class WebhookGateway:
    """Delivers webhook messages: one signed POST to the subscriber's URL."""

    def __init__(self, subscribers: dict, timeout: float = 5):
        self.subscribers, self.timeout = subscribers, timeout

    def send(self, message: Outgoing) -> None:
        subscriber = self.subscribers.get(message.recipient)
        if subscriber is None:
            raise DeliveryError(f"no webhook subscriber {message.recipient}")
        webhook_id = json.loads(message.body)["id"]
        timestamp = str(clock.timestamp())
        request = urllib.request.Request(  # noqa: S310 - a configured subscriber's URL
            subscriber["url"], data=message.body.encode(), headers={
                "Content-Type": "application/json", "webhook-id": webhook_id,
                "webhook-timestamp": timestamp,
                "webhook-signature": signature(subscriber["secret"], webhook_id, timestamp,
                                               message.body)}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"webhook answered {response.status}")
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"webhook answered {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryError(f"webhook unreachable: {type(error).__name__}") from None
