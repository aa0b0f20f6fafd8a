"""Gateways: the last step of delivery, to an SMTP server, an SMS provider or a local table.

A gateway is anything with ``send(message: Outgoing) -> None`` that raises
:class:`DeliveryError` when the message did not leave (the worker then retries later).
It must not log the message's body: it may hold a PIN.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import string
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from idp import clock, db
from idp.db import Base


@dataclass(frozen=True)
class Outgoing:
    """A message ready to leave: ``channel`` is "email" or "sms"."""

    channel: str
    recipient: str
    subject: str
    body: str


class DeliveryError(Exception):
    """The message did not leave; the text says why, without the message's content."""


class Gateway(Protocol):
    def send(self, message: Outgoing) -> None:
        """Deliver ``message`` or raise :class:`DeliveryError`."""


class SMTPGateway:
    """Email over SMTP. ``smtp://user:password@host:port`` (``?starttls=1`` to upgrade),
    or ``smtps://...`` for implicit TLS."""

    def __init__(self, url: str, sender: str, timeout: float = 10):
        self.url = urllib.parse.urlsplit(url)
        if self.url.scheme not in {"smtp", "smtps"} or not self.url.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
        self.sender, self.timeout = sender, timeout
        self.starttls = urllib.parse.parse_qs(self.url.query).get("starttls") == ["1"]

    def _connect(self) -> smtplib.SMTP:
        host, tls = self.url.hostname, self.url.scheme == "smtps"
        if tls:
            return smtplib.SMTP_SSL(host, self.url.port or 465, timeout=self.timeout,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(host, self.url.port or 25, timeout=self.timeout)

    def send(self, message: Outgoing) -> None:
        email = EmailMessage()
        email["From"], email["To"] = self.sender, message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        email.set_content(message.body)
        try:
            with self._connect() as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.url.username:
                    smtp.login(urllib.parse.unquote(self.url.username),
                               urllib.parse.unquote(self.url.password or ""))
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP {self.url.hostname}: {type(error).__name__}") from None


class HTTPSMSGateway:
    """SMS through a provider's HTTP API: one POST per message.

    ``body`` is a template with ``$to`` and ``$text``; values are JSON-quoted when the content
    type is JSON and form-encoded otherwise. ``auth`` is sent as the Authorization header.
    """

    def __init__(self, url: str, body: str, auth: str = "", sender: str = "",
                 content_type: str = "application/json", timeout: float = 10):
        if not url.startswith(("https://", "http://")):
            raise ValueError("SMS_HTTP_URL must be an http(s) URL")
        self.url, self.template, self.auth = url, string.Template(body), auth
        self.sender, self.content_type, self.timeout = sender, content_type, timeout

    def payload(self, message: Outgoing) -> bytes:
        values = {"to": message.recipient, "text": message.body, "sender": self.sender}
        quote = json.dumps if "json" in self.content_type else urllib.parse.quote_plus
        return self.template.substitute({k: quote(v) for k, v in values.items()}).encode()

    def send(self, message: Outgoing) -> None:
        request = urllib.request.Request(self.url, data=self.payload(message), method="POST")  # noqa: S310
        request.add_header("Content-Type", self.content_type)
        if self.auth:
            request.add_header("Authorization", self.auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            raise DeliveryError(f"SMS gateway: {type(error).__name__}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"SMS gateway answered {status}")


class DevMessage(Base):
    """What the development gateway delivered (never used in production)."""

    __tablename__ = "dev_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    delivered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))



class DevGateway:
    """Development only: keeps messages in a table for ``kleidi outbox`` to print."""

    def send(self, message: Outgoing) -> None:
        with db.transaction() as session:
            session.add(DevMessage(channel=message.channel, recipient=message.recipient,
                                   subject=message.subject, body=message.body,
                                   delivered_at=clock.now()))
