"""Account activation (uregister), reached from the login page before any login.

A newcomer picks their role, identifies with the mobile or email they declared on admission
plus their registry data, proves it with a PIN, gives an AMKA (or a foreign social security
number, or an EHIC number) if the registry lacks one, consents to recovery contacts, sets a
password and receives their username. See :mod:`selfservice.activation.steps`.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from idp import flows, messaging, navigation


def init_app(app: Flask) -> None:
    from selfservice.activation import views

    app.register_blueprint(views.bp)
    navigation.add_link(app, "activation.role", _l("Activate your account (new students)"),
                        order=10)
    messaging.add_housekeeping(app, flows.purge_expired)
