"""``kleidi applications list|show|approve|reject|verify|hand-over``: the account office's
work from the command line, calling the same functions as the pages under /manage."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import force_locale

from idp import db, errors
from idp.identity.applications import handover, office, summary
from idp.identity.applications.models import STATUSES

ACTOR = "cli"


def _run(action, as_json: bool, text):
    """Run ``action`` and commit; a refusal rolls back and exits with its code."""
    try:
        result = action()
        db.session().commit()
    except errors.KleidiError as refused:
        db.session().rollback()
        with force_locale("en"):
            title = str(refused.entry.title)
        if as_json:
            click.echo(json.dumps({"error": refused.entry.code, "message": title}))
            raise SystemExit(1) from None
        raise click.ClickException(f"{refused.entry.code}: {title}") from None
    click.echo(json.dumps(result) if as_json else text(result))


@click.group(name="applications")
def applications_group():
    """Staff applications: the account office's work (see docs/staff.md)."""


@applications_group.command(name="list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(status: str | None, as_json: bool):
    """List applications, newest first."""
    rows = [summary.brief(a) for a in office.listing(status)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['serial']}  {row['status']:<15} {row['role']:<20} {row['name']}")


@applications_group.command()
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show(serial: str, as_json: bool):
    """Show an application: details, HR registry match, history, identity checks."""
    def text(data):
        hr = data["hr"]
        match = ("no HR record" if hr["record"] is None else f"HR record {hr['record']}"
                 + (f", differs in {', '.join(hr['differences'])}" if hr["differences"] else
                    ", matches"))
        lines = [f"{data['serial']} {data['status']} {data['role']}",
                 f"{data['given_name_el']} {data['family_name_el']} / {data['given_name_en']} "
                 f"{data['family_name_en']} ({data['father_name']}), {data['unit']}",
                 f"{data['email']} {data['mobile']}; {data['document']['kind']} "
                 f"{data['document']['number']}", match,
                 f"account: {data['eppn'] or '—'}"]
        lines += [f"  {e['at']} {e['status']} by {e['actor']}" + (f": {e['note']}" if e["note"]
                  else "") for e in data["history"]]
        return "\n".join(lines)

    _run(lambda: summary.describe(office.find(serial)), as_json, text)


@applications_group.command()
@click.argument("serial")
@click.option("--link", help="Username of an account this applicant already holds.")
@click.option("--note", help="Why (kept in the history and the audit trail).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def approve(serial: str, link: str | None, note: str | None, as_json: bool):
    """Approve: create or link the person, the affiliation and the account."""
    _run(lambda: summary.describe(office.approve(serial, actor=ACTOR, link=link, note=note)),
         as_json, lambda d: f"{d['serial']} approved: account {d['eppn']}")


@applications_group.command()
@click.argument("serial")
@click.option("--reason", required=True, help="Why (the applicant reads it).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def reject(serial: str, reason: str, as_json: bool):
    """Reject a submitted application, with the reason."""
    _run(lambda: summary.brief(office.reject(serial, actor=ACTOR, reason=reason)), as_json,
         lambda d: f"{d['serial']} rejected")


@applications_group.command()
@click.argument("serial")
@click.option("--document", "document_kind", required=True, help="Kind of identity document.")
@click.option("--number", required=True, help="Its number, as seen.")
@click.option("--evidence", multiple=True, help="Further evidence seen (repeat).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def verify(serial: str, document_kind: str, number: str, evidence: tuple, as_json: bool):
    """Record the identity check in person, with the evidence the role needs."""
    def action():
        office.verify(serial, actor=ACTOR, document_kind=document_kind,
                      document_number=number, evidence=list(evidence))
        return summary.brief(office.find(serial))

    _run(action, as_json, lambda d: f"{d['serial']} verified")


@applications_group.command(name="hand-over")
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def hand_over(serial: str, as_json: bool):
    """Email the one-time set-password link; print its code for the applicant."""
    def action():
        code = handover.hand_over(serial, actor=ACTOR)
        return {**summary.brief(office.find(serial)), "code": code}

    def text(data):
        if data["code"] is None:
            return f"{data['serial']} handed over: the applicant's existing account"
        return f"{data['serial']} handed over; set-password code: {data['code']}"

    _run(action, as_json, text)


def init_app(app: Flask) -> None:
    app.cli.add_command(applications_group)
