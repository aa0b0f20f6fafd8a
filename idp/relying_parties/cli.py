"""``kleidi rp list|show|preview|approve|reject|withdraw``: the operators' review at the
command line (the same functions as /manage/relying-parties)."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale

from idp import db
from idp.errors import KleidiError
from idp.identity import accounts
from idp.relying_parties import registration, review

rp_group = AppGroup("rp", help="Relying parties registered through the portal, and their review.")


def describe(rp) -> dict:
    return {"id": rp.id, "kind": rp.kind, "identifier": rp.identifier, "state": rp.state,
            "names": rp.requested["names"], "contacts": rp.requested["contacts"],
            "requested": rp.requested["attributes"],
            "approved": rp.approved["release"] if rp.approved else None,
            "reason": rp.decision_reason,
            "owners": [a.username for a in registration.owners(rp)]}


def _load(reference: str):
    rp = review.find(reference)
    if rp is None:
        raise click.ClickException(f"no registered relying party {reference}")
    return rp


def _release(value: str | None, rp) -> list[str]:
    if value is None:
        return sorted(rp.requested["attributes"])
    return [name.strip() for name in value.split(",") if name.strip()]


def run(step):
    """Run a core step; a refusal ends the command (exit 1) with its code and its English
    text. The sp and client commands use it too."""
    try:
        step()
    except KleidiError as error:
        with force_locale("en"):  # a command has no request to choose a language from
            message = f"{error.entry.code}: {error.entry.description}"
        raise click.ClickException(message) from None


@rp_group.command("list")
@click.option("--state", default=None, help="Only those in this state (e.g. submitted).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(state, as_json):
    """Every registration, the longest waiting first."""
    found = [describe(rp) for rp in review.listed(state)]
    if as_json:
        click.echo(json.dumps(found))
        return
    for rp in found:
        click.echo(f"{rp['id']}\t{rp['kind']}\t{rp['state']}\t{rp['identifier']}\t{rp['names']['en']}")


@rp_group.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show(reference, as_json):
    """One registration: requested (with reasons) and approved attributes, owners, state."""
    out = describe(_load(reference))
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        click.echo(f"{key}: {value}")


@rp_group.command("preview")
@click.argument("reference")
@click.argument("username")
@click.option("--release", default=None, help="Comma-separated names (default: those requested).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def preview(reference, username, release, as_json):
    """Exactly what USERNAME would be sent under the release."""
    rp = _load(reference)
    account = accounts.find_by_username(username)
    if account is None:
        raise click.ClickException(f"no account {username}")
    out = review.preview(rp, account, _release(release, rp))
    if as_json:
        click.echo(json.dumps(out))
        return
    for name, values in out.items():
        click.echo(f"{name}: {', '.join(values)}")


@rp_group.command("approve")
@click.argument("reference")
@click.option("--release", default=None, help="Comma-separated names (default: those requested).")
@click.option("--reason", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def approve(reference, release, reason, as_json):
    """Approve the submitted version with the release; it is in force at once."""
    rp = _load(reference)
    run(lambda: review.approve(rp, _release(release, rp), actor="cli", reason=reason))
    db.session().commit()
    click.echo(json.dumps(describe(rp)) if as_json else f"{rp.identifier} approved, active")


@rp_group.command("reject")
@click.argument("reference")
@click.option("--reason", required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def reject(reference, reason, as_json):
    """Refuse the submitted version; the owners are told why."""
    rp = _load(reference)
    run(lambda: review.reject(rp, actor="cli", reason=reason))
    db.session().commit()
    click.echo(json.dumps(describe(rp)) if as_json else f"{rp.identifier} rejected")


@rp_group.command("withdraw")
@click.argument("reference")
@click.option("--reason", required=True, help="Why (kept in the audit trail, told to the owners).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def withdraw(reference, reason, as_json):
    """Delete a registration that was never approved (draft, submitted or rejected); its
    identifier can be registered again. RP-014 for one that was: see sp/client remove."""
    rp = _load(reference)
    gone = {"withdrawn": rp.identifier, "id": rp.id, "kind": rp.kind}
    run(lambda: registration.withdraw(rp, actor="cli", reason=reason))
    db.session().commit()
    click.echo(json.dumps(gone) if as_json else f"{gone['withdrawn']} withdrawn")


def init_app(app: Flask) -> None:
    app.cli.add_command(rp_group)
