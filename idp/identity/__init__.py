"""The identity core: people, affiliations, accounts, roles, usernames, the AcademicID, the
registries they come from, validity and the lifecycle, services and entitlements."""

from __future__ import annotations


def init_app(app) -> None:
    """The identity core's commands, error codes, template helpers and scheduled run."""
    from idp.identity import cli, codes, extensions, issuer, lifecycle, services  # noqa: F401

    issuer.check(app.config)
    cli.init_app(app)
    lifecycle.schedule(app)
    app.add_template_filter(services.label, "service_label")
    app.add_template_global(extensions.label, "evidence_label")
