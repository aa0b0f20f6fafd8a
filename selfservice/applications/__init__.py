"""Staff applications (MUSSA), reached from the login page before any login: apply for an
account (``/apply``), follow the application with its serial number and secret
(``/apply/status``), and choose the password with the hand-over's one-time link or code
(``/apply/password``). The account office's side is :mod:`idp.identity.applications`.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from idp import navigation


def init_app(app: Flask) -> None:
    from selfservice.applications import views

    app.register_blueprint(views.bp)
    navigation.add_link(app, "applications.apply", _l("Staff and faculty: apply for an account"),
                        order=20)
