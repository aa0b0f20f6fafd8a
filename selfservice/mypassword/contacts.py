"""Changing the recovery mobile or external email, as a flow: new -> pin_sent -> done.

The new contact counts only once a PIN sent to it comes back; an external email in one of
the institution's own domains is refused (it would not help when the institutional account
is lost); the change needs a recent login; the old contact is told.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from idp import audit, db, errors, flows, messaging
from idp.credentials import pins
from idp.identity.models import Account
from selfservice.mypassword import notices

KIND, PURPOSE = "contact_change", "contact"
CHANNELS = {"mobile": "sms", "email": "email"}
FIELDS = {"mobile": "mobile", "email": "external_email"}

flows.register_kind(KIND, initial="new", lifetime="CONTACT_FLOW_SECONDS", transitions={
    "new": {"pin_sent"},
    "pin_sent": {"pin_sent", "done"},
})

errors.define("CONTACT-001", 200, _l("Not an external email address"),
              _l("This address belongs to the institution. For recovery, give a personal "
                 "address outside the institution, which still works if you lose access to "
                 "your institutional account."))
errors.define("CONTACT-002", 200, _l("Already registered"),
              _l("This is already the contact registered for your account."))


def institutional(email: str) -> bool:
    """True if ``email`` is in one of INSTITUTION_DOMAINS or their subdomains."""
    domain = email.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    return any(domain == d.lower() or domain.endswith("." + d.lower())
               for d in current_app.config["INSTITUTION_DOMAINS"])


def problem(account: Account, kind: str, value: str) -> str | None:
    """The error code refusing ``value`` as the new ``kind`` contact, or None."""
    if kind == "email" and institutional(value):
        return "CONTACT-001"
    if (getattr(account, FIELDS[kind]) or "").lower() == value.lower():
        return "CONTACT-002"
    return None


def begin(account: Account, kind: str, value: str, *, language: str, ip: str | None):
    """Start verifying ``value`` as the account's new ``kind`` contact: a PIN goes to it."""
    flow = flows.start(KIND, subject=f"account:{account.id}", data={
        "account_id": account.id, "kind": kind, "value": value, "language": language})
    flows.advance(flow, "pin_sent")
    _send_pin(flow, ip)
    return flow


def load(flow_id: str, account: Account, state: str) -> flows.Flow:
    """The account's own contact-change flow ``flow_id`` in ``state``."""
    flow = flows.load(flow_id, KIND, expect=state)
    if flow.data.get("account_id") != account.id:
        raise errors.KleidiError("FLOW-001", kind=KIND)
    return flow


def resend(flow: flows.Flow, ip: str | None) -> None:
    flows.advance(flow, "pin_sent")
    _send_pin(flow, ip, resend=True)


def _send_pin(flow: flows.Flow, ip: str | None, resend: bool = False) -> None:
    value, language = flow.data["value"], flow.data["language"]
    pin = pins.issue(flow, PURPOSE, contact=pins.contact_key(value), ip=ip, resend=resend)
    messaging.enqueue(CHANNELS[flow.data["kind"]], value, "pin", language, pin=pin,
                      minutes=current_app.config["PIN_TTL_SECONDS"] // 60,
                      service=_l("Contact verification"),
                      organization=current_app.config[f"ORGANIZATION_NAME_{language.upper()}"])
    db.session().commit()


def confirm(flow: flows.Flow, account: Account, candidate: str) -> str:
    """pins.OK once the new contact is registered, or why the PIN was not accepted."""
    result = pins.verify(flow, PURPOSE, candidate)
    if result != pins.OK:
        db.session().commit()
        return result
    kind = flow.data["kind"]
    old = getattr(account, FIELDS[kind])
    setattr(account, FIELDS[kind], flow.data["value"])
    audit.record("contacts.changed", account=account, contact=kind)
    if old:
        notices.send(account, f"{kind}_changed", to=[(CHANNELS[kind], old)])
    flows.advance(flow, "done")
    db.session().commit()
    return result
