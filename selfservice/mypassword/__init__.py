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
        account_page,
        reauth,
        second_factor,
    )

    app.register_blueprint(bp)
    app.add_template_global(account_page.role_label, "role_label")
    app.add_template_global(account_page.has_endpoint, "has_endpoint")
    navigation.add_link(app, "mypassword.account", _l("Your account"), signed_in=True, order=10)
    navigation.add_link(app, "mypassword.second_factor", _l("Second factor (authenticator app)"),
                        signed_in=True, order=30)
