"""The relying-party portal (/rp): RP admins register SAML SPs and OIDC clients, say which
attributes they need and why, follow the review and add co-owners. The work is done by the
core (:mod:`idp.relying_parties`); these are its forms and thin views."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from idp import attributes, navigation

bp = Blueprint("rp", __name__, url_prefix="/rp")


def init_app(app: Flask) -> None:
    from selfservice.relying_parties import views  # noqa: F401 (its routes join bp)

    app.register_blueprint(bp)
    navigation.add_return_area(app, bp.url_prefix)  # rp_admin sends a signed-out owner back
    app.add_template_filter(attribute_label, "attribute_label")
    navigation.add_link(app, "rp.index", _l("Your services (relying parties)"), signed_in=True,
                        order=60, shown=_may_register)


def attribute_label(name: str) -> str:
    """What an internal attribute is called on the pages."""
    return str(attributes.LABELS.get(name, name))


def _may_register() -> bool:
    from idp import sessions
    from idp.relying_parties import registration

    account = sessions.current_account()
    return account is not None and registration.may_register(account)
