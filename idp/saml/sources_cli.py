"""``kleidi metadata``: federation metadata sources (see idp.saml.sources and docs/saml.md)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import click
from flask.cli import with_appcontext
from saml2.time_util import parse_duration

from idp import db
from idp.saml import refresh as refreshing
from idp.saml import sources
from idp.saml.federation import split_certificates

_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class CommandError(click.ClickException):
    """One clear line on standard error, exit status 2."""

    exit_code = 2


@click.group(name="metadata")
def metadata_group():
    """Federation metadata: aggregates and MDQ services, verified before use."""


@metadata_group.group(name="source")
def source_group():
    """Add or remove a federation metadata source."""


@source_group.command(name="add")
@click.argument("name")
@click.option("--url", help="The aggregate's http(s) URL.")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path),
              help="The aggregate as a file (read by whichever process refreshes it).")
@click.option("--mdq", help="The base URL of an MDQ service (entities asked for one by one).")
@click.option("--cert", "certs", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM file of the certificate the signature must verify with (repeat to "
                   "pin the next one during a rollover).")
@click.option("--refresh", "refresh_text", help="How often to fetch it: 30m, 6h, 1d, PT1H "
              "(default SAML_METADATA_REFRESH_SECONDS).")
@click.option("--registration-authority", "authorities", multiple=True,
              help="Only SPs registered by this federation (mdrpi registrationAuthority).")
@click.option("--entity-category", "categories", multiple=True,
              help="Only SPs carrying this entity category (e.g. REFEDS R&S).")
@click.option("--replace", is_flag=True, help="Change an existing source.")
@click.option("--json", "as_json", is_flag=True, help="Print the first refresh as JSON.")
@with_appcontext
def add(name, url, path, mdq, certs, refresh_text, authorities, categories, replace, as_json):
    """Add source NAME (or change it, with --replace) and fetch it now."""
    kind, location = _location(url, path, mdq)
    pems = [pem for cert in certs for pem in _certificates(cert)]
    try:
        sources.add(name, kind, location, pems, refresh_seconds=_seconds(refresh_text),
                    authorities=authorities, categories=categories, replace=replace)
    except sources.SourceSettingsError as error:
        raise CommandError(str(error)) from None
    db.session().commit()
    click.echo(f"source {name} {'changed' if replace else 'added'}", err=as_json)
    _report(refreshing.refresh(name), as_json)


@source_group.command(name="remove")
@click.argument("name")
@with_appcontext
def remove(name: str):
    """Forget source NAME and its SPs (running servers drop them within seconds)."""
    if not sources.remove(name):
        raise CommandError(f"no metadata source {name}")
    db.session().commit()
    click.echo(f"removed {name}")


@metadata_group.command(name="refresh")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
@with_appcontext
def refresh(name: str | None, as_json: bool):
    """Fetch and verify source NAME (or every source) now; a failure keeps the last good copy."""
    outcomes = refreshing.refresh(name)
    if name is not None and not outcomes:
        raise CommandError(f"no metadata source {name}")
    _report(outcomes, as_json)


@metadata_group.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the sources as JSON.")
@with_appcontext
def status(as_json: bool):
    """Every source: SPs in use, valid until, last success, last error, next refresh."""
    found = sources.status()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for item in found:
        state = "in use" if item["in_use"] else ("EXPIRED" if item["expired"] else "not in use")
        click.echo(f"{item['name']}\t{item['kind']}\t{item['entities']} SPs\t{state}\t"
                   f"valid until {item['valid_until'] or '-'}\t"
                   f"last success {item['last_success_at'] or 'never'}\t"
                   f"next refresh {item['next_refresh_at']}")
        if item["last_error"]:
            click.echo(f"\tlast error: {item['last_error']}")


def _report(outcomes: list[refreshing.Outcome], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([asdict(o) for o in outcomes], indent=2))
    else:
        for o in outcomes:
            click.echo(f"{o.source}: {_summary(o)}")
    failed = [o.source for o in outcomes if not o.ok]
    if failed:
        raise CommandError(f"refresh failed: {', '.join(failed)}")


def _summary(o: refreshing.Outcome) -> str:
    if not o.ok:
        return f"FAILED ({o.error}); the last good copy stays in use"
    if o.kind == "mdq":
        return f"MDQ, {o.entities} SPs cached (each asked for when first met)"
    return (f"{o.entities} SPs, {o.skipped} unusable, {o.filtered} filtered out, valid until "
            f"{o.valid_until}" + ("" if o.changed else " (unchanged)"))


def _location(url, path, mdq) -> tuple[str, str]:
    given = [(kind, value) for kind, value in (("aggregate", url), ("file", path), ("mdq", mdq))
             if value]
    if len(given) != 1:
        raise CommandError("give exactly one of --url, --file or --mdq")
    kind, value = given[0]
    if kind == "file":
        return "aggregate", str(Path(value).resolve())
    if not value.startswith(("https://", "http://")):
        raise CommandError(f"not an http(s) URL: {value}")
    return kind, value


def _certificates(path: Path) -> list[str]:
    found = split_certificates(path.read_text("ascii", errors="replace"))
    if not found:
        raise CommandError(f"{path}: no PEM certificate in it")
    return found


def _seconds(text: str | None) -> int | None:
    if text is None:
        return None
    match = _DURATION.fullmatch(text.strip())
    if match:
        return int(match.group(1)) * _UNITS[match.group(2)]
    try:
        sign, parts = parse_duration(text.strip())
    except (ValueError, IndexError):
        raise CommandError(f"not a duration: {text} (say 30m, 6h, 1d or PT1H)") from None
    seconds = (parts["tm_mday"] * 86400 + parts["tm_hour"] * 3600 + parts["tm_min"] * 60
               + parts["tm_sec"])
    if sign != "+" or parts["tm_year"] or parts["tm_mon"] or not seconds:
        raise CommandError(f"not a usable duration: {text}")
    return int(seconds)
