"""Kleidi: an identity provider for universities."""

from __future__ import annotations

import gc

from flask import Flask
from flask_wtf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from idp import config as settings
from idp.head_requests import HeadAsGet
from idp.outages import Kleidi

csrf = CSRFProtect()


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, then every area's blueprints."""
    app = Kleidi(__name__, template_folder=str(settings.ROOT / "templates"),
                static_folder=str(settings.ROOT / "static"), instance_path=str(settings.ROOT / "instance"))
    app.config.update(settings.load(config))
    app.config.setdefault("INSTANCE_PATH", app.instance_path)
    app.config["TESTING"] = app.config["ENV"] == "testing"
    _prepare_keys(app.config)

    from idp import (
        branding,
        cli,
        db,
        errors,
        headers,
        i18n,
        jsonlog,
        login,
        messaging,
        metrics,
        navigation,
        oidc,
        ops,
        outages,
        saml,
        sessions,
        store,
    )
    from idp.identity import init_app as identity_init_app
    from idp.identity.applications import init_app as applications_init_app
    from idp.mfa import second_step
    from idp.relying_parties import init_app as relying_parties_init_app
    from selfservice import activation, mypassword
    from selfservice import applications as staff_applications
    from selfservice import relying_parties as rp_portal

    jsonlog.configure(app.config["LOG_LEVEL"], text=app.config.get("LOG_FORMAT") == "text")
    metrics.init_app(app)  # first: its clock starts before any other hook runs
    db.init_app(app)
    store.init_app(app)
    sessions.init_app(app)
    i18n.init_app(app)
    branding.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    outages.init_app(app)
    headers.init_app(app)
    navigation.init_app(app)
    app.register_blueprint(ops.bp)
    login.init_app(app)
    second_step.init_app(app)
    cli.init_app(app)
    identity_init_app(app)
    applications_init_app(app)
    messaging.init_app(app)
    activation.init_app(app)
    mypassword.init_app(app)
    staff_applications.init_app(app)
    saml.init_app(app)
    oidc.init_app(app)
    relying_parties_init_app(app)
    rp_portal.init_app(app)
    import manage
    from selfservice import nonpersonal

    nonpersonal.init_app(app)
    manage.init_app(app)
    app.wsgi_app = HeadAsGet(app.wsgi_app)
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"],
                                x_proto=app.config["PROXY_COUNT"])
    return app


def create_server_app() -> Flask:
    """:func:`create_app` for a long-running server process (``wsgi.py``, ``kleidi serve``).

    The SAML directory of SPs is built here, before the first request, and the areas'
    ``kleidi.before_serving`` callables run (e.g. loading the OIDC signing keys): what would
    otherwise be done on (and slow down) the first request. What exists once the app is built
    (modules, metadata, compiled templates and statements) lives as long as the process:
    ``gc.freeze()`` moves it out of the collector's reach, so the collections that every
    request's garbage triggers no longer walk through all of it.
    """
    from idp import ops, outages, saml

    app = create_app()
    saml.prepare(app)
    with app.app_context():
        try:
            ops.check_migrations()  # /readyz then needs no Alembic check per call
        except outages.CANDIDATES:
            pass  # the database is down: /readyz says so, and reads them once it is back
        for prepare in app.extensions.get("kleidi.before_serving", []):
            prepare()  # what would otherwise be done on (and slow down) the first request
    gc.freeze()
    return app


def _prepare_keys(config: dict) -> None:
    from idp import keys

    keys.load_secrets(config)
    if config["ENV"] == "development":
        keys.ensure_dev_keys(config["KEYS_DIR"])
    settings.check_production(config)
    if config["ENV"] == "production":
        keys.check_keys(config)
