"""``kleidi sp``: register SAML service providers and set what they may receive."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from idp import db
from idp.relying_parties import review
from idp.relying_parties.cli import run
from idp.saml import directory, providers, registrations, vocabulary


@click.group(name="sp")
def sp_group():
    """SAML service providers (metadata files in METADATA_DIR need no registration)."""


@sp_group.command(name="add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def add(file: Path):
    """Register the SP(s) described by a metadata FILE; running servers pick it up."""
    try:
        entity_ids = registrations.add_metadata(file.read_text("utf-8"))
    except (providers.MetadataError, UnicodeDecodeError) as error:
        raise click.ClickException(str(error)) from None
    db.session().commit()
    for entity_id in entity_ids:
        click.echo(f"registered {entity_id}")


@sp_group.command(name="remove")
@click.argument("entity_id")
@click.option("--reason", required=True, help="Why (kept in the audit log, told to its owners).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def remove(entity_id: str, reason: str, as_json: bool):
    """Forget a registered SP, its policy, its portal registration and the consents given
    (RP-016 if none is registered with ENTITY_ID)."""
    run(lambda: review.remove("saml", entity_id, actor="cli", reason=reason))
    db.session().commit()
    click.echo(json.dumps({"removed": entity_id}) if as_json else f"removed {entity_id}")


@sp_group.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(as_json: bool):
    """Every SP, where it comes from and what it may receive."""
    found = directory.providers_now()
    if as_json:
        click.echo(json.dumps([_summary(p) for p in found]))
        return
    for provider in found:
        click.echo(f"{provider.entity_id}\t{provider.source}\t"
                   f"{','.join(sorted(provider.approved())) or '-'}")


@sp_group.command(name="show")
@click.argument("entity_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show(entity_id: str, as_json: bool):
    """One SP: its endpoints, keys, categories, release and portal registration."""
    provider = directory.find(entity_id)
    if provider is None:
        raise click.ClickException(f"unknown SP {entity_id}")
    rp = review.find(entity_id)
    out = {**_summary(provider), "acs": [e.location for e in provider.acs],
           "slo": [e.location for e in provider.slo], "categories": list(provider.categories),
           "requested": sorted(provider.requested), "names": provider.names,
           "signing_certificates": len(provider.signing_certs),
           "encryption_certificates": len(provider.encryption_certs),
           "policy": {flag: getattr(provider.policy, flag) for flag in registrations.POLICY_FLAGS},
           "registration": {"id": rp.id, "state": rp.state} if rp else None}
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        click.echo(f"{key}: {value}")


def _summary(provider) -> dict:
    return {"entity_id": provider.entity_id, "source": provider.source,
            "release": sorted(provider.approved())}


@sp_group.command(name="policy")
@click.argument("entity_id")
@click.option("--attributes", help="Comma-separated internal names; 'default' for the SP's "
              "entity-category defaults; '' for none. Known: "
              + ", ".join(vocabulary.SAML_ATTRIBUTES))
@click.option("--allow-unsolicited/--no-allow-unsolicited", default=None)
@click.option("--sign-response/--no-sign-response", default=None,
              help="Sign the Response (the default).")
@click.option("--sign-assertions/--no-sign-assertions", default=None,
              help="Sign the Assertion (the default); one of the two must stay on.")
@click.option("--encrypt-assertions/--no-encrypt-assertions", default=None)
@click.option("--require-signed-requests/--no-require-signed-requests", default=None)
@with_appcontext
def policy(entity_id: str, attributes: str | None, **flags):
    """Set the release policy and options of one SP."""
    if directory.find(entity_id) is None:
        raise click.ClickException(f"unknown SP {entity_id}")
    names = ... if attributes is None else (
        None if attributes == "default" else [a.strip() for a in attributes.split(",") if a])
    try:
        registrations.set_policy(entity_id, attributes=names, **flags)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    db.session().commit()
    click.echo(f"policy of {entity_id} updated")
    sys.stdout.flush()
