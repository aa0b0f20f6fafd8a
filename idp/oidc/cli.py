"""CLI: ``kleidi client add``, ``kleidi keys rotate`` and ``kleidi oidc purge``."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from idp import audit, clock, db
from idp.oidc import clients, signing, tokens

client_group = AppGroup("client", help="OpenID Connect clients.")


@client_group.command("add")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="A redirect URI, matched exactly (repeatable).")
@click.option("--name", default="", help="The name people see on the consent screen.")
@click.option("--public", "kind", flag_value="public",
              help="A public client (no secret, PKCE S256 required).")
@click.option("--confidential", "kind", flag_value="confidential", default=True,
              help="A confidential client (the default).")
@click.option("--auth-method", type=click.Choice(["client_secret_basic", "client_secret_post",
                                                  "private_key_jwt"]),
              default=None, help="The only token endpoint authentication the client may use "
              "(without it: its secret, sent either with HTTP Basic or in the form body).")
@click.option("--scope", "scopes", multiple=True,
              help=f"An approved scope (repeatable; from {', '.join(clients.SUPPORTED_SCOPES)}).")
@click.option("--sector", default=None, help="Pairwise sector (default: the redirect URIs' host).")
@click.option("--jwks", "jwks_file", type=click.File(), help="JWKS file for private_key_jwt.")
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--backchannel-logout-uri", default=None)
@click.option("--id-token-alg", type=click.Choice(signing.ALGORITHMS), default="RS256")
@click.option("--no-refresh", is_flag=True, help="Issue no refresh tokens to this client.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def add_client(redirect_uris, name, kind, auth_method, scopes, sector, jwks_file, post_logout,
               backchannel_logout_uri, id_token_alg, no_refresh, as_json):
    """Register a client; prints its id (and secret, shown only this once)."""
    try:
        client, secret = clients.add_client(
            redirect_uris=list(redirect_uris), name=name,
            auth_method="none" if kind == "public" else auth_method or "client_secret_basic",
            strict_auth_method=auth_method is not None, scopes=list(scopes),
            sector=sector, jwks=json.load(jwks_file) if jwks_file else None,
            post_logout_redirect_uris=list(post_logout), id_token_alg=id_token_alg,
            backchannel_logout_uri=backchannel_logout_uri, refresh_tokens=not no_refresh,
        )
    except clients.InvalidClientSettings as exc:
        raise click.UsageError(str(exc)) from exc
    db.session().flush()
    audit.record("oidc.client_added", actor="cli", client_id=client.client_id)
    db.session().commit()
    out = {"client_id": client.client_id, "token_endpoint_auth_method": client.auth_method}
    if secret:
        out["client_secret"] = secret
    if as_json:
        click.echo(json.dumps(out))
        return
    click.echo(f"client registered\n  client_id: {client.client_id}\n"
               f"  token endpoint authentication: {client.auth_method}")
    if secret:
        click.echo(f"  client_secret: {secret}\n(the secret is shown only this once: store it now)")


oidc_group = AppGroup("oidc", help="OpenID Connect provider upkeep.")


@oidc_group.command("purge")
@with_appcontext
def purge():
    """Delete grants and refresh tokens that ended more than OIDC_GRANT_RETENTION_SECONDS ago."""
    count = tokens.purge_grants(current_app.config["OIDC_GRANT_RETENTION_SECONDS"])
    click.echo(f"{count} ended grants deleted")


@click.command("rotate")
@with_appcontext
def rotate_keys():
    """Promote the published next OIDC keys to signing; retire the current ones."""
    config = current_app.config
    retain = config["OIDC_ID_TOKEN_TTL_SECONDS"] + config["OIDC_KEY_RETAIN_GRACE_SECONDS"]
    entries = signing.rotate(config["KEYS_DIR"], clock.now(), retain)
    for entry in entries:
        click.echo(f"{entry['alg']} {entry['state']:8} {entry['kid']}")


def init_app(app: Flask) -> None:
    from idp.oidc import client_cli  # noqa: F401 (its commands join client_group)

    app.cli.add_command(client_group)
    app.cli.add_command(oidc_group)
    keys = app.cli.commands.get("keys")
    if keys is None:
        keys = AppGroup("keys", help="Signing keys.")
        app.cli.add_command(keys)
    keys.add_command(rotate_keys)
