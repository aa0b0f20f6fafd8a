"""The OpenID Connect provider: authlib's authorization server over Kleidi's core."""

from __future__ import annotations

import logging

import click
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the OIDC endpoints, the signing keys, the error codes and the CLI."""
    # authlib logs issued tokens at DEBUG: never let a debug log level write them out.
    logging.getLogger("authlib").setLevel(max(logging.INFO, logging.getLogger().level))
    from idp import clock, consent, sessions
    from idp.login import interactions
    from idp.oidc import (  # noqa: F401 (errors defines the codes)
        authorize,
        cli,
        clients,
        errors,
        logout,
        outage,
        relying_party,
        server,
        signing,
        tokens,
        views,
    )

    if app.config["ENV"] != "production":
        with app.app_context():
            signing.initialise(app.config["KEYS_DIR"], clock.now())
    keys = app.extensions["kleidi.oidc.keys"] = signing.SigningKeys(app.config["KEYS_DIR"])

    def load_keys():
        for alg in signing.ALGORITHMS:
            keys.signing_key(alg)  # production without keys fails here, saying what to run

    if click.get_current_context(silent=True) is None:  # serving, not `kleidi keys rotate`
        load_keys()
    # A server process started by `kleidi serve` runs inside that command: it loads them (some
    # 30 ms per RSA key) before its first request all the same.
    app.extensions.setdefault("kleidi.before_serving", []).append(load_keys)
    app.extensions["kleidi.oidc.server"] = server.create_server(app)
    app.register_blueprint(views.bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        for view in views.CSRF_EXEMPT:
            csrf.exempt(view)
    cli.init_app(app)
    relying_party.init_app(app)
    outage.init_app(app)
    sessions.on_logout(app, logout.session_ending)
    consent.on_withdraw(app, tokens.consent_withdrawn)
    consent.on_display_name(app, clients.display_name)
    # Before the core's consent check (90), which they complete.
    interactions.register_check(app, authorize.release_for, 80)
    interactions.register_check(app, authorize.consent_requested, 85)
