"""``kleidi operator grant|revoke|list`` and ``kleidi account disable|enable``.

Each command calls the same core function as the console's pages, and the core audits
(actor ``cli``).
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext

from idp import db
from idp.identity import accounts, operators


def _account(username: str):
    account = accounts.find_by_username(username)
    if account is None:
        raise click.ClickException(f"no account {username}")
    return account


@click.group(name="operator")
def operator_group():
    """Operators of the console (/manage) and their roles: office, helpdesk, federation,
    admin (admin implies every role)."""


def _change(change, username: str, role: str, reason: str, as_json: bool, verb: str):
    account = _account(username)
    try:
        changed = change(account, role, actor="cli", reason=reason)
    except operators.OperatorRefused as error:
        db.session().rollback()
        raise click.ClickException(f"{error.code}: {error}") from None
    db.session().commit()
    roles = operators.roles_of(account.id)
    if as_json:
        click.echo(json.dumps({"username": account.username, "roles": roles, "changed": changed}))
        return
    state = verb if changed else f"already {'without' if verb == 'revoked' else 'with'}"
    click.echo(f"{account.username}: {state} {role}; roles now: {', '.join(roles) or 'none'}")


@operator_group.command(name="grant")
@click.argument("username")
@click.argument("role", type=click.Choice(operators.ROLES))
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def operator_grant(username: str, role: str, reason: str, as_json: bool):
    """Give USERNAME the operator ROLE."""
    _change(operators.grant, username, role, reason, as_json, "granted")


@operator_group.command(name="revoke")
@click.argument("username")
@click.argument("role", type=click.Choice(operators.ROLES))
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def operator_revoke(username: str, role: str, reason: str, as_json: bool):
    """Take the operator ROLE from USERNAME."""
    _change(operators.revoke, username, role, reason, as_json, "revoked")


@operator_group.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def operator_list(as_json: bool):
    """Every operator, their roles and whether they have a second factor."""
    found = operators.listing()
    if as_json:
        click.echo(json.dumps(found))
        return
    for entry in found:
        factor = "second factor" if entry["second_factor"] else "NO second factor"
        click.echo(f"{entry['username']:<20} {', '.join(entry['roles']):<36} {factor}")
    if not found:
        click.echo("no operators")


def _switch(change, username: str, reason: str, as_json: bool, verb: str):
    account = _account(username)
    changed = change(account, reason, actor="cli")
    db.session().commit()
    if as_json:
        click.echo(json.dumps({"username": account.username, "status": account.status,
                               "changed": changed}))
        return
    click.echo(f"{account.username} {verb}" if changed else
               f"{account.username} was not changed (status {account.status})")


@click.command(name="disable")
@click.argument("username")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def account_disable(username: str, reason: str, as_json: bool):
    """Disable USERNAME at once: sign-in refused, sessions and OIDC tokens ended."""
    _switch(accounts.disable, username, reason, as_json, "disabled")


@click.command(name="enable")
@click.argument("username")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def account_enable(username: str, reason: str, as_json: bool):
    """Enable the disabled account USERNAME again."""
    _switch(accounts.enable, username, reason, as_json, "enabled")


def init_app(app: Flask) -> None:
    app.cli.add_command(operator_group)
    group = app.cli.commands["account"]
    for command in (account_disable, account_enable):
        if command.name not in group.commands:
            group.add_command(command)
