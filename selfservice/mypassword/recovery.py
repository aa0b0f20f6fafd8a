"""Recovery of a forgotten password as a flow: each step checks, moves the flow, commits.

    identify -> pin_sent -> password -> done

The person gives their username and either the mobile or the external email registered for
the account, or one the registries hold for them (the secretariat's records). The identify
step answers the same whether or not they match: a PIN is issued either way, but a message is
written only when they match, and only to the contact that matched; the answer never comes
sooner than ``RECOVERY_IDENTIFY_MIN_SECONDS``. Asking
changes nothing about the account. After the new password is set, every session of the
account ends (and, through the session epoch, every OIDC refresh token), a notice goes to the
other registered contact, and nobody is logged in.
"""

from __future__ import annotations

import time

from flask import current_app, session
from flask_babel import lazy_gettext as _l

from idp import audit, db, errors, flows, messaging
from idp.credentials import pins
from idp.credentials.password_policy import policy
from idp.identity import accounts, contacts
from idp.identity.models import Account
from idp.store import store
from selfservice.mypassword import notices

KIND = PURPOSE = "recovery"
LOGIN_KEYS = ("account_id", "epoch", "auth_time", "amr", "acr", "reauth_at")

flows.register_kind(KIND, initial="identify", lifetime="RECOVERY_FLOW_SECONDS", transitions={
    "identify": {"pin_sent"},
    "pin_sent": {"pin_sent", "password"},
    "password": {"done"},
})

errors.define("RECOVERY-001", 403, _l("Your details could not be verified"),
              _l("The username and the contact you gave do not belong to one active account. "
                 "Check them and start again; if you no longer have the mobile or email you "
                 "registered, contact the helpdesk."))
errors.define("RECOVERY-002", 429, _l("Too many password recoveries started"),
              _l("Too many password recoveries were started from your connection. Wait an "
                 "hour and try again."))


def begin(ip: str | None) -> flows.Flow:
    """A new recovery, within the per-address hourly limit of new flows."""
    limit = current_app.config["RECOVERY_STARTS_PER_IP_HOUR"]
    if ip and store().incr(f"recovery:start:{ip}", 3600) > limit:
        raise errors.KleidiError("RECOVERY-002")
    flow = flows.start(KIND)
    db.session().commit()
    return flow


def identify(flow: flows.Flow, *, username: str, mobile: str | None, email: str | None,
             language: str, ip: str | None) -> None:
    """Issue a PIN, and send it if the username and contact match (the same answer if not)."""
    started = time.monotonic()
    account = match(username, mobile=mobile, email=email)
    flows.advance(flow, "pin_sent", account_id=account.id if account else None,
                  channel="sms" if mobile else "email", language=language,
                  contact_key=pins.contact_key(mobile or (email or "").strip().lower()))
    if account is not None:
        flow.subject = f"account:{account.id}"
    try:
        _send_pin(flow, ip)
    finally:
        left = current_app.config["RECOVERY_IDENTIFY_MIN_SECONDS"] - (time.monotonic() - started)
        time.sleep(max(0.0, left))


def match(username: str, *, mobile: str | None, email: str | None) -> Account | None:
    """The active account with this username and this registered contact, or None."""
    account = accounts.find_by_username(username or "")
    if account is None or account.status != "active" or not (mobile or email):
        return None
    channel = "sms" if mobile else "email"
    return account if contacts.matching(account, channel, mobile or email) else None


def resend(flow: flows.Flow, ip: str | None) -> None:
    """A new PIN (the previous one stops working), within the sending limits."""
    flows.advance(flow, "pin_sent")
    _send_pin(flow, ip)


def _send_pin(flow: flows.Flow, ip: str | None) -> None:
    pin = pins.issue(flow, PURPOSE, contact=flow.data["contact_key"], ip=ip)
    account = _account(flow)
    channel, language = flow.data["channel"], flow.data["language"]
    context = {"pin": pin, "minutes": current_app.config["PIN_TTL_SECONDS"] // 60,
               "service": _l("Password recovery"),
               "organization": current_app.config[f"ORGANIZATION_NAME_{language.upper()}"]}
    if account is None:
        messaging.render("pin", channel, language, **context)  # the same work as a real send
    else:
        recipient = _recipient(account, channel, flow.data["contact_key"])
        messaging.enqueue(channel, recipient, "pin", language, **context)
    db.session().commit()


def _recipient(account: Account, channel: str, contact_key: str) -> str:
    """The contact the person typed (account's or registry's), found by its key."""
    return next(c.value for c in contacts.recovery_contacts(account)
                if c.channel == channel and pins.contact_key(c.value) == contact_key)


def check_pin(flow: flows.Flow, candidate: str) -> str:
    """pins.OK after which the flow has moved on, or why the PIN was not accepted."""
    result = pins.verify(flow, PURPOSE, candidate)
    if result != pins.OK:
        db.session().commit()
        return result
    if _account(flow) is None:
        audit.record("recovery.refused", actor="anonymous")
        flows.fail(flow, "RECOVERY-001")
        raise errors.KleidiError("RECOVERY-001")
    flows.advance(flow, "password")
    db.session().commit()
    return result


def reset(flow: flows.Flow, password: str, confirmation: str) -> list[str]:
    """Set the new password (policy problems, if any, instead); end every session."""
    account = _account(flow)
    if account is None:
        raise errors.KleidiError("RECOVERY-001")
    person = account.person
    problems = policy().problems(password, confirmation, username=account.username, names=(
        person.given_name_el, person.family_name_el, person.given_name_en, person.family_name_en))
    if problems:
        return problems
    accounts.set_password(account, password, actor="recovery")
    _end_login_here(account)
    audit.record("password.reset", account=account, channel=flow.data["channel"])
    used = "sms" if flow.data["channel"] == "sms" else "email"
    others = [(ch, to) for ch, to in notices.contacts(account) if ch != used]
    notices.send(account, "password_reset", to=others or notices.contacts(account))
    flows.advance(flow, "done", username=account.username)
    db.session().commit()
    return []


def _end_login_here(account: Account) -> None:
    """The reset ends this browser's login too (no automatic login after a recovery)."""
    if session.get("account_id") == account.id:
        for key in LOGIN_KEYS:
            session.pop(key, None)


def _account(flow: flows.Flow) -> Account | None:
    account_id = flow.data.get("account_id")
    account = None if account_id is None else db.session().get(Account, account_id)
    return account if account is not None and account.status == "active" else None
