"""``kleidi registry import``, ``kleidi lifecycle run``, ``kleidi account extend|show|services``.

Each command calls the same core function as the pages, and the core audits.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from idp import db
from idp.identity import accounts, extensions, lifecycle, registry, standing, sync


def _date(_ctx, _param, value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


def _account(username: str):
    account = accounts.find_by_username(username)
    if account is None:
        raise click.ClickException(f"no account {username}")
    return account


@click.group(name="registry")
def registry_group():
    """Registry feeds (student SIS, HR)."""


@registry_group.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--registry", "source", type=click.Choice(registry.REGISTRIES),
              default="students", show_default=True)
@click.option("--full", is_flag=True, help="The feed is the whole registry: missing rows end.")
@click.option("--force", is_flag=True, help="Run a --full import past the safety valve.")
@click.option("--dry-run", is_flag=True, help="Print the changes, write nothing.")
@with_appcontext
def registry_import(file: Path, source: str, full: bool, force: bool, dry_run: bool):
    """Import a registry file (CSV with a header, or JSON) and reconcile people with it."""
    try:
        rows = registry.read_rows(file)
    except (ValueError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{file}: {error}") from None
    try:
        report = registry.import_rows(source, rows, actor="cli", full=full, force=force,
                                      dry_run=dry_run)
    except sync.SafetyValve as error:
        raise click.ClickException(str(error)) from None
    for line, reason in report.errors:
        click.echo(f"{file}:{line}: {reason}", err=True)
    if dry_run:
        for line in report.changes.lines:
            click.echo(f"would: {line}")
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(report.changes.counts.items()))
    click.echo(f"{'dry run: ' if dry_run else ''}created {report.created}, updated "
               f"{report.updated}, unchanged {report.unchanged}, rejected {len(report.errors)}"
               + (f"; {kinds}" if kinds else ""))
    if report.errors:
        sys.exit(1)


@click.group(name="lifecycle")
def lifecycle_group():
    """Validity, warnings and deactivation (see docs/lifecycle.md)."""


@lifecycle_group.command(name="run")
@click.option("--dry-run", is_flag=True, help="Print what would happen, write nothing.")
@click.option("--as-of", callback=_date, help="Act as on this day (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def lifecycle_run(dry_run: bool, as_of: date | None, as_json: bool):
    """Warn accounts that end soon; deactivate (or move to alumni) those past the grace."""
    report = lifecycle.run(as_of, dry_run=dry_run, actor="cli")
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    for change in report.changes:
        detail = " ".join(f"{k}={v}" for k, v in change.items() if k not in ("kind", "username"))
        click.echo(f"{change['kind']} {change['username']} {detail}".rstrip())
    counts = ", ".join(f"{k} {n}" for k, n in sorted(report.counts.items())) or "nothing to do"
    click.echo(f"{'dry run ' if dry_run else ''}as of {report.as_of}: {counts}")


@click.command(name="extend")
@click.argument("username")
@click.option("--until", "until", required=True, callback=_date, help="New end (YYYY-MM-DD).")
@click.option("--evidence", required=True, help="Kind of proof (see EVIDENCE).")
@click.option("--note", required=True, help="What was checked.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def account_extend(username: str, until: date, evidence: str, note: str, as_json: bool):
    """Record proof of continued membership and extend USERNAME to --until."""
    account = _account(username)
    try:
        extensions.extend(account, until=until, evidence=evidence, note=note, actor="cli")
    except extensions.ExtensionRefused as error:
        db.session().rollback()
        raise click.ClickException(f"{error.code}: {error}") from None
    db.session().commit()
    result = {"username": account.username, "status": account.status,
              "valid_until": until.isoformat()}
    click.echo(json.dumps(result) if as_json else
               f"{account.username} extended to {until} ({account.status})")


@click.command(name="show")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def account_show(username: str, as_json: bool):
    """Print USERNAME's status, validity and services."""
    data = standing.of(_account(username))
    if as_json:
        click.echo(json.dumps(data))
        return
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"{key + ':':<14} {shown if shown not in (None, '') else '—'}")


def init_app(app: Flask) -> None:
    app.cli.add_command(registry_group)
    app.cli.add_command(lifecycle_group)
    group = app.cli.commands.get("account")
    if group is None:
        raise RuntimeError("the core's `kleidi account` group must be registered first")
    group.add_command(account_extend)
    if "show" not in group.commands:
        group.add_command(account_show)
    from idp.identity import operator_cli

    operator_cli.init_app(app)
