"""The post-login checks of the core. Areas add theirs with ``interactions.register_check``."""

from __future__ import annotations

from flask import current_app, redirect, url_for

from idp import consent
from idp.errors import KleidiError
from idp.identity import lifecycle
from idp.identity.models import Account
from idp.login import interactions


def account_usable(account: Account, _interaction: dict):
    """A disabled, deactivated or never-activated account goes no further; an account in the
    alumni state only to the account page and its services' relying parties."""
    refused = lifecycle.may_sign_in(account, _interaction.get("relying_party"))
    if refused:
        raise KleidiError(refused)
    if account.status != "active":
        raise KleidiError("LOGIN-003")
    return None


def password_current(account: Account, interaction: dict):
    """An account whose password must change is sent to change it, then comes back here."""
    if not account.must_change_password:
        return None
    if "mypassword.change_password" not in current_app.view_functions:
        raise KleidiError("LOGIN-006")
    back = url_for("login.resume", iid=interaction.get("id"))
    return redirect(url_for("mypassword.change_password", next=back))


def consent_given(account: Account, interaction: dict):
    """Ask before releasing attributes to a relying party for the first time."""
    rp, release = interaction.get("relying_party"), interaction.get("release")
    if not rp or not release or interaction.get("denied"):
        return None
    if consent.has_consent(account, rp, release.keys()):
        return None
    return redirect(url_for("login.consent", iid=interaction["id"]))


def init_app(app) -> None:
    interactions.register_check(app, account_usable, 10)
    interactions.register_check(app, password_current, 20)
    interactions.register_check(app, consent_given, 90)
