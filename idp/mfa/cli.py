"""``kleidi mfa``: the helpdesk's commands for a person who lost their second factor.

Run only after the person's identity was verified in person (ID card), as for any account
change made on their behalf.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp import db
from idp.identity import accounts
from idp.mfa import totp


@click.group(name="mfa")
def mfa_group():
    """Second factor (TOTP) of accounts."""


def _account(username: str):
    account = accounts.find_by_username(username)
    if account is None:
        raise click.ClickException(f"no account {username}")
    return account


@mfa_group.command(name="status")
@click.argument("username")
@with_appcontext
def status(username: str):
    """Whether USERNAME has a second factor, and how many recovery codes are unused."""
    account = _account(username)
    row = totp.authenticator(account)
    if row is None:
        click.echo(f"{account.username}: no second factor")
        return
    click.echo(f"{account.username}: authenticator app since {row.confirmed_at:%Y-%m-%d}, "
               f"{totp.recovery_codes_left(account)} unused recovery codes")


@mfa_group.command(name="remove")
@click.argument("username")
@click.option("--reason", required=True, help="Why, for the audit log (e.g. a ticket number).")
@with_appcontext
def remove(username: str, reason: str):
    """Remove USERNAME's second factor and recovery codes (they may enrol again)."""
    from idp.identity import helpdesk

    account = _account(username)
    if not helpdesk.remove_second_factor(account, actor="cli", reason=reason):
        raise click.ClickException(f"{account.username} has no second factor")
    db.session().commit()
    click.echo(f"second factor removed for {account.username}")
