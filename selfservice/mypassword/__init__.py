"""mypassword: the signed-in account page, password change, contacts, the second factor,
and recovery of a forgotten password.

Each module holds one procedure and its thin views on the shared blueprint :data:`bp`.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from idp import navigation

bp = Blueprint("mypassword", __name__)


def init_app(app: Flask) -> None:
    from selfservice.mypassword import (  # noqa: F401  (their routes join the blueprint)
        account_lifecycle,
        account_page,
        contacts_views,
        password_change,
        reauth,
        recovery_views,
        second_factor,
    )

    app.register_blueprint(bp)
    navigation.add_return_area(app, reauth.AREA)
    app.add_template_global(account_page.role_label, "role_label")
    app.add_template_global(account_lifecycle.account_lifecycle, "account_lifecycle")
    navigation.add_link(app, "mypassword.recovery_identify", _l("Forgot your password?"), order=20)
    navigation.add_link(app, "mypassword.account", _l("Your account"), signed_in=True, order=10)
    navigation.add_link(app, "mypassword.change_password", _l("Change your password"),
                        signed_in=True, order=20)
    navigation.add_link(app, "mypassword.second_factor", _l("Second factor (authenticator app)"),
                        signed_in=True, order=30)
