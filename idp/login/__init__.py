"""The one login for every protocol: the login page, interactions and post-login checks."""

from flask import Flask


def init_app(app: Flask) -> None:
    from idp.credentials.cli import throttle_group
    from idp.login import checks, views

    app.register_blueprint(views.bp)
    checks.init_app(app)
    app.cli.add_command(throttle_group)
