"""``kleidi account search|correct-names`` and ``kleidi nonpersonal list|approve|reject``:
the helpdesk's and the account office's commands, calling the same core functions as the
console's pages (the core audits; actor ``cli``)."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext

from idp import db
from idp.identity import accounts, helpdesk, nonpersonal
from idp.identity.models import Account


@click.command(name="search")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def account_search(query: str, as_json: bool):
    """Accounts whose username, names or registration number contain QUERY."""
    found = [{"username": a.username, "kind": a.kind, "status": a.status,
              "name_el": f"{a.person.given_name_el} {a.person.family_name_el}",
              "name_en": f"{a.person.given_name_en} {a.person.family_name_en}"}
             for a in helpdesk.search(query)]
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    for entry in found:
        click.echo(f"{entry['username']:<20} {entry['status']:<9} {entry['name_el']} · "
                   f"{entry['name_en']}")


@click.command(name="correct-names")
@click.argument("username")
@click.option("--given-el")
@click.option("--family-el")
@click.option("--given-en")
@click.option("--family-en")
@click.option("--reason", required=True, help="The document checked, and why.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def account_correct_names(username, given_el, family_el, given_en, family_en, reason, as_json):
    """Correct USERNAME's names after verifying an identity document (old names audited)."""
    account = accounts.find_by_username(username)
    if account is None:
        raise click.ClickException(f"no account {username}")
    values = dict(zip(helpdesk.NAME_FIELDS, (given_el, family_el, given_en, family_en),
                      strict=True))
    changed = helpdesk.correct_names(account.person, values, actor="cli", reason=reason,
                                     account=account)
    db.session().commit()
    result = {name: {"old": old, "new": new} for name, (old, new) in changed.items()}
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else
               "\n".join(f"{k}: {v['old']} -> {v['new']}" for k, v in result.items())
               or "nothing changed")


@click.group(name="nonpersonal")
def nonpersonal_group():
    """Requests for non-personal accounts (email and mailing lists of a unit)."""


@nonpersonal_group.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def nonpersonal_list(as_json: bool):
    """The pending requests."""
    found = [{"id": r.id, "username": r.username, "purpose": r.purpose,
              "owner": db.session().get(Account, r.owner_account_id).username,
              "requested_at": r.requested_at.isoformat()} for r in nonpersonal.pending()]
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    for entry in found:
        click.echo(f"{entry['id']:>5} {entry['username']:<20} {entry['owner']:<16} {entry['purpose']}")


def _decide(decide, request_id: int, reason: str, as_json: bool, verb: str):
    try:
        decide(request_id, actor="cli", reason=reason)
    except nonpersonal.NonPersonalRefused as error:
        db.session().rollback()
        raise click.ClickException(f"{error.code}: {error}") from None
    db.session().commit()
    click.echo(json.dumps({"id": request_id, "status": verb}) if as_json
               else f"request {request_id} {verb}")


@nonpersonal_group.command(name="approve")
@click.argument("request_id", type=int)
@click.option("--reason", default="", help="Kept in the audit trail.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def nonpersonal_approve(request_id: int, reason: str, as_json: bool):
    """Create the account of request REQUEST_ID (its owner then sets its password)."""
    _decide(nonpersonal.approve, request_id, reason, as_json, "approved")


@nonpersonal_group.command(name="reject")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Told to the owner, kept in the audit trail.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def nonpersonal_reject(request_id: int, reason: str, as_json: bool):
    """Reject request REQUEST_ID."""
    _decide(nonpersonal.reject, request_id, reason, as_json, "rejected")


def init_app(app: Flask) -> None:
    app.cli.add_command(nonpersonal_group)
    group = app.cli.commands["account"]
    for command in (account_search, account_correct_names):
        if command.name not in group.commands:
            group.add_command(command)
