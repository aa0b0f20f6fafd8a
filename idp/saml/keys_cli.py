"""``kleidi keys saml stage|activate|retire|status``: the SAML signing key's rollover."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from idp import audit, clock, db
from idp.saml import signing_keys

saml_keys = AppGroup("saml", help="The SAML signing key: stage the next, activate it, retire "
                     "the previous.")


def _done(event: str, as_json: bool, **detail) -> None:
    audit.record(event, actor="cli", **detail)
    db.session().commit()
    _show(as_json)


def _show(as_json: bool) -> None:
    state = signing_keys.status(current_app.config["KEYS_DIR"])
    if as_json:
        click.echo(json.dumps(state))
        return
    for role in signing_keys.ROLES:
        click.echo(f"{role:9} {state[role] or '-'}")


def _refusal(error: signing_keys.RolloverRefused):
    return click.ClickException(str(error))


@saml_keys.command("stage")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def stage(as_json):
    """Create the next signing key; its certificate is published in the metadata at once."""
    try:
        signing_keys.stage(current_app.config["KEYS_DIR"], clock.now(),
                           current_app.config["ORGANIZATION_NAME_EN"])
    except signing_keys.RolloverRefused as error:
        raise _refusal(error) from None
    _done("saml.signing_key_staged", as_json)


@saml_keys.command("activate")
@click.option("--force", is_flag=True, help="Without waiting SAML_KEY_ROLLOVER_NOTICE_SECONDS.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def activate(force, as_json):
    """Sign with the staged key from now on; the replaced one stays published as previous."""
    try:
        signing_keys.activate(current_app.config["KEYS_DIR"], clock.now(),
                              current_app.config["SAML_KEY_ROLLOVER_NOTICE_SECONDS"], force=force)
    except signing_keys.RolloverRefused as error:
        raise _refusal(error) from None
    _done("saml.signing_key_activated", as_json, forced=force)


@saml_keys.command("retire")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def retire(as_json):
    """Stop publishing the previous signing certificate and delete its key."""
    if not signing_keys.retire(current_app.config["KEYS_DIR"]):
        raise click.ClickException("there is no previous signing key")
    _done("saml.signing_key_retired", as_json)


@saml_keys.command("status")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def status(as_json):
    """The signing certificates published: in use, staged, previous."""
    _show(as_json)


def init_app(app: Flask) -> None:
    keys = app.cli.commands.get("keys")
    if keys is None:
        keys = AppGroup("keys", help="Signing keys.")
        app.cli.add_command(keys)
    keys.add_command(saml_keys)
