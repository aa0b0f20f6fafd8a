"""``kleidi client list|show|update|remove|rotate-secret``: the registered OIDC clients."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from idp import db
from idp.oidc import client_changes, clients
from idp.oidc.cli import client_group
from idp.relying_parties import review
from idp.relying_parties.cli import run


def _client(client_id: str):
    client = clients.find(client_id)
    if client is None:
        raise click.ClickException(f"no client {client_id}")
    return client


def _print(out: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        click.echo(f"{key}: {value}")


@client_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_clients(as_json):
    """Every registered client."""
    found = [client_changes.describe(c) for c in client_changes.listed()]
    if as_json:
        click.echo(json.dumps(found))
        return
    for client in found:
        click.echo(f"{client['client_id']}\t{client['token_endpoint_auth_method']}\t"
                   f"{client['name'] or '-'}\t{' '.join(client['scopes'])}")


@client_group.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show(client_id, as_json):
    """One client's settings (never its secret)."""
    rp = review.find(client_id)
    _print({**client_changes.describe(_client(client_id)),
            "registration": {"id": rp.id, "state": rp.state} if rp else None}, as_json)


@client_group.command("update")
@click.argument("client_id")
@click.option("--name", default=None)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Replaces them all.")
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True)
@click.option("--backchannel-logout-uri", default=None)
@click.option("--scope", "scopes", multiple=True, help="Replaces the approved scopes.")
@click.option("--refresh/--no-refresh", "refresh_tokens", default=None)
@click.option("--reason", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def update(client_id, reason, as_json, **changes):
    """Change a client's settings; what is not given stays."""
    changes = {k: (list(v) or None) if isinstance(v, tuple) else v for k, v in changes.items()}
    client = _client(client_id)
    try:
        client_changes.update(client, actor="cli", reason=reason, **changes)
    except clients.InvalidClientSettings as error:
        raise click.UsageError(str(error)) from None
    db.session().commit()
    _forget_cached(client_id)
    _print(client_changes.describe(client), as_json)


@client_group.command("remove")
@click.argument("client_id")
@click.option("--reason", required=True, help="Why (kept in the audit log, told to its owners).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def remove(client_id, reason, as_json):
    """Forget a client: its refresh and access tokens end, its consents are forgotten
    (RP-016 if there is no client CLIENT_ID)."""
    run(lambda: review.remove("oidc", client_id, actor="cli", reason=reason))
    db.session().commit()
    click.echo(json.dumps({"removed": client_id}) if as_json else f"removed {client_id}")


@client_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--reason", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate_secret(client_id, reason, as_json):
    """Give a confidential client a new secret (shown only this once); the old one stops."""
    try:
        secret = client_changes.rotate_secret(_client(client_id), actor="cli", reason=reason)
    except clients.InvalidClientSettings as error:
        raise click.UsageError(str(error)) from None
    db.session().commit()
    _forget_cached(client_id)
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "client_secret": secret}))
        return
    click.echo(f"client_secret: {secret}\n(the secret is shown only this once: store it now)")


def _forget_cached(client_id: str) -> None:
    current_app.extensions["kleidi.oidc.server"]._clients.pop(client_id, None)
