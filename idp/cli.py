"""The ``kleidi`` command: set-up, serving, accounts, demo data (the identity core adds the
registry, lifecycle and account commands of :mod:`idp.identity.cli`)."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale

from idp import db, demo, i18n, keys, migrate
from idp.config import ConfigurationError
from idp.credentials.password_policy import policy
from idp.identity import accounts

#: Commands that run as services: their logs go to a collector, as JSON lines.
SERVICES = {"serve", "worker"}


def _app(*_args, **_kwargs):
    from idp import create_app

    args = sys.argv[1:]
    as_json = "--json" in args or bool(SERVICES & set(args[:1]))
    return create_app({"LOG_FORMAT": "json" if as_json else "text"})


class KleidiGroup(FlaskGroup):
    """Flask's command group (the app and its context for every command) without Flask's
    own options (--app, --env-file, --debug): ``kleidi --help`` shows Kleidi's commands."""

    def __init__(self, **kwargs):
        super().__init__(add_default_commands=False, add_version_option=False,
                         load_dotenv=False, **kwargs)
        self.params = [param for param in self.params
                       if param.name not in {"app", "env_file", "debug"}]

    def main(self, *args, **kwargs):
        """A configuration that cannot be used ends any command with one line naming the
        setting, and exit status 2 (as a wrong command-line option does)."""
        try:
            return super().main(*args, **kwargs)
        except ConfigurationError as error:
            click.echo(f"kleidi: configuration error: {error}", err=True)
            sys.exit(2)


@click.group(cls=KleidiGroup, create_app=_app)
@click.version_option(package_name="kleidi", prog_name="kleidi")
def main():
    """Kleidi, the identity provider of the institution: SAML 2.0, OpenID Connect and
    account self-service. Settings come from KLEIDI_* environment variables or the TOML file
    named by KLEIDI_CONFIG (see idp/config.py). Every command prints text; those that give
    --json print JSON for scripts."""


def init_app(app) -> None:
    """Every core command, on the app's CLI (areas add theirs in their own init_app)."""
    for command in (init, serve, demo_command, account_group):
        app.cli.add_command(command)


@click.command()
@with_appcontext
def init():
    """Create or upgrade the database; generate missing development keys."""
    migrate.upgrade()
    if current_app.config["ENV"] == "development":
        for path in keys.ensure_dev_keys(current_app.config["KEYS_DIR"]):
            click.echo(f"generated {path}")
    if not i18n.compiled():
        click.echo("translations are not compiled: run `make translations`", err=True)
    click.echo("database ready")


@click.command()
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--workers", default=1, show_default=True,
              help="Worker processes: about one per core (more than one needs Redis).")
@click.option("--threads", default=1, show_default=True,
              help="Python threads per worker running requests.")
def serve(port: int, host: str, workers: int, threads: int):
    """Serve Kleidi with granian, the production HTTP server."""
    from idp.serve import run

    sys.exit(run(host, port, workers, threads))


@click.command(name="demo")
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
@with_appcontext
def demo_command(as_json: bool):
    """Load the synthetic demo registry and print the demo accounts' credentials."""
    credentials = demo.load()
    if as_json:
        click.echo(json.dumps([{"username": c["username"], "password": c["password"],
                                "roles": c.get("roles", []), "totp_secret": c.get("totp_secret")}
                               for c in credentials]))
        return
    click.echo("Demo registry loaded. Demo accounts (new passwords each run):")
    for item in credentials:
        click.echo(f"  {item['username']:<16} {item['password']}  ({item['role']})")
        if item.get("totp_secret"):  # operators of the console (/manage)
            click.echo(f"  {'':<16} operator: {', '.join(item['roles'])}; "
                       f"TOTP secret {item['totp_secret']}")
    application = demo.pending_application()
    click.echo(f"A staff application ({application['status']}): {application['serial']}, "
               f"secret {application['secret']} (follow it at /apply/status; "
               "`kleidi applications show` it)")


@click.group(name="account")
def account_group():
    """Accounts."""


@account_group.command(name="set-password")
@click.argument("username")
@with_appcontext
def set_password(username: str):
    """Set USERNAME's password, read from standard input (one line)."""
    account = accounts.find_by_username(username)
    if account is None:
        raise click.ClickException(f"no account {username}")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("no password on standard input")
    problems = accounts.password_problems(account, password)
    if problems:
        with force_locale("en"):
            reasons = " ".join(policy().messages(problems))
        raise click.ClickException(f"password refused: {reasons}")
    accounts.set_password(account, password, actor="cli")
    db.session().commit()
    click.echo(f"password set for {account.username}")
