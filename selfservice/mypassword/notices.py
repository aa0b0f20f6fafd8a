"""Security notices to a person's registered contacts (SMS to the mobile, email to the
external address): password changed or reset, contacts changed, second factor changed.

A notice says what happened and when, never a secret, and tells the person what to do if it
was not them. It is written to the outbox in the caller's transaction.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from idp import clock, messaging
from idp.branding import local_time
from idp.identity.models import Account

TEXTS = {
    "password_changed": _l("The password of your account %(username)s was changed on %(when)s."),
    "password_reset": _l("The password of your account %(username)s was reset with a PIN "
                         "(forgotten password) on %(when)s."),
    "mobile_changed": _l("The recovery mobile of your account %(username)s was changed on "
                         "%(when)s. This number no longer receives its messages."),
    "email_changed": _l("The recovery email of your account %(username)s was changed on "
                        "%(when)s. This address no longer receives its messages."),
    "second_factor_added": _l("A second factor (authenticator app) was added to your account "
                              "%(username)s on %(when)s."),
    "second_factor_removed": _l("The second factor (authenticator app) of your account "
                                "%(username)s was removed on %(when)s."),
}


#: The same, short enough for one SMS with the institution's name and the helpdesk address.
SMS_TEXTS = {
    "password_changed": _l("Password of %(username)s changed %(when)s."),
    "password_reset": _l("Password of %(username)s reset with a PIN %(when)s."),
    "mobile_changed": _l("Recovery mobile of %(username)s changed %(when)s."),
    "email_changed": _l("Recovery email of %(username)s changed %(when)s."),
    "second_factor_added": _l("Second factor added to %(username)s %(when)s."),
    "second_factor_removed": _l("Second factor removed from %(username)s %(when)s."),
}


def contacts(account: Account) -> list[tuple[str, str]]:
    """The (channel, recipient) pairs registered for the account."""
    found = []
    if account.mobile:
        found.append(("sms", account.mobile))
    if account.external_email:
        found.append(("email", account.external_email))
    return found


def send(account: Account, kind: str, *, to: list[tuple[str, str]] | None = None) -> int:
    """Queue notice ``kind`` to ``to`` (default: every registered contact); how many."""
    language = str(get_locale())
    context = {
        "text": TEXTS[kind], "sms_text": SMS_TEXTS[kind], "username": account.username,
        "when": local_time(clock.now()),  # in the institution's time zone, like the pages
        "support": current_app.config["SUPPORT_EMAIL"],
        "organization": current_app.config[f"ORGANIZATION_NAME_{language.upper()}"],
    }
    sent = 0
    for channel, recipient in contacts(account) if to is None else to:
        sent += messaging.enqueue(channel, recipient, "mypassword_notice", language, **context)
    return sent
