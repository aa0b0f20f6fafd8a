"""SAML 2.0 identity provider: a thin layer over pysaml2's Server on the Kleidi core.

Modules: ``crypto`` (in-process xmlsec backend), ``hardening`` (checks on untrusted XML),
``providers`` (what is kept of an SP), ``index`` and ``directory`` (every SP by entityID,
kept current in the background; ``directory_source`` is pysaml2's view of it),
``federation``, ``sources``, ``refresh`` and ``mdq`` (federation metadata, verified),
``server`` (the pysaml2 Server),
``intake`` (receiving requests), ``release`` and ``vocabulary`` (what an SP gets),
``answer``, ``sso`` and ``logout`` (the protocol endpoints), ``metadata`` (ours), ``cli``.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning
from flask import Flask

with warnings.catch_warnings():
    # pysaml2 7.5 names CFB where cryptography no longer keeps it (for a cookie cipher that
    # Kleidi does not use); the warning would greet every `kleidi` command.
    warnings.filterwarnings("ignore", "CFB has been moved", CryptographyDeprecationWarning)
    import saml2.cryptography.symmetric  # noqa: F401

from idp.saml import codes  # noqa: E402, F401  (defines the SAML-0xx error codes)


def init_app(app: Flask) -> None:
    """Register the /saml endpoints, the ``kleidi sp`` and ``kleidi metadata`` commands, and
    the scheduled refresh of federation metadata (run by ``kleidi worker``)."""
    from idp import consent, csrf, messaging, metrics_state
    from idp.config import ConfigurationError
    from idp.login import interactions
    from idp.saml import (
        cli,
        crypto,
        directory,
        keys_cli,
        logout,
        outage,
        refresh,
        relying_party,
        source_metrics,
        sources_cli,
        sso,
    )
    from idp.saml.blueprint import bp

    try:
        crypto.XmlsecBackend(app.config["SAML_DATA_ENCRYPTION"])
    except ValueError as error:
        raise ConfigurationError(f"KLEIDI_SAML_DATA_ENCRYPTION: {error}") from None
    app.register_blueprint(bp)
    csrf.exempt(sso.sso_post)
    csrf.exempt(logout.slo_post)
    app.cli.add_command(cli.sp_group)
    consent.on_display_name(app, directory.display_name)
    app.cli.add_command(sources_cli.metadata_group)
    messaging.add_housekeeping(app, refresh.start_due_refreshes)
    interactions.register_logout(app, logout.logout_from_idp)
    relying_party.init_app(app)
    keys_cli.init_app(app)
    outage.init_app(app)
    metrics_state.add_state(app, source_metrics.metadata_state)


def prepare(app: Flask) -> None:
    """Before the server serves: build the directory of SPs (see idp.saml.directory), the
    pysaml2 Server and the signer (loading and checking the RSA keys takes a tenth of a
    second), so that the first request finds them ready."""
    from idp.saml import directory, server

    directory.prepare(app)
    with app.app_context():
        server.server()
        server.signer()
