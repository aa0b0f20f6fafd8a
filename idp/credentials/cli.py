"""``kleidi throttle``: the helpdesk's view of the per-account guessing defence, and lifting it.

Lifting it is for a person who cannot sign in from a new browser after an attack on their
account and cannot recover the password themselves; verify who they are first, as for any
change made on their behalf. Setting a new password lifts it too.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from flask.cli import with_appcontext

from idp import db
from idp.credentials import throttle
from idp.identity import accounts


@click.group(name="throttle")
def throttle_group():
    """Password-guessing defence per account (browsers never used with it)."""


def _account(username: str):
    account = accounts.find_by_username(username)
    if account is None:
        raise click.ClickException(f"no account {username}")
    return account


@throttle_group.command(name="show")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@with_appcontext
def show(username: str, as_json: bool):
    """USERNAME's failures from unknown browsers, their wait and whether they are blocked."""
    account = _account(username)
    state = throttle.account_state(account.username)
    if as_json:
        click.echo(json.dumps({"username": account.username, **asdict(state)}))
        return
    if state.blocked:
        verdict = "unknown browsers are blocked"
    elif state.wait:
        verdict = f"unknown browsers wait {state.wait} s"
    else:
        verdict = "unknown browsers may try now"
    click.echo(f"{account.username}: {state.failures} failures from unknown browsers; {verdict}"
               " (browsers it signed in from before are never slowed)")


@throttle_group.command(name="clear")
@click.argument("username")
@click.option("--reason", required=True, help="Why, for the audit log (e.g. a ticket number).")
@with_appcontext
def clear(username: str, reason: str):
    """Forget USERNAME's failures from unknown browsers (lifts their wait and block)."""
    from idp.identity import helpdesk

    account = _account(username)
    helpdesk.lift_guessing_block(account, actor="cli", reason=reason)
    db.session().commit()
    click.echo(f"{account.username}: failures from unknown browsers forgotten")
