"""The operators' console under ``/manage``: the account office, the helpdesk, federation
review and the administration of operators.

Every path under ``/manage`` passes :func:`manage.access.gate` (signed in, an operator, a
second factor used in this session, the page's role) whatever serves it, so a new page cannot
forget its protection. An area adds its pages with :func:`register`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask_babel import lazy_gettext as _l

from idp import navigation
from idp.identity import operators
from manage import access

bp = Blueprint("manage", __name__, url_prefix=access.PREFIX)


def register(app: Flask, blueprint: Blueprint, *, role: str, label=None, description=None,
             endpoint: str | None = None, order: int = 50) -> None:
    """Serve ``blueprint`` (its ``url_prefix`` under ``/manage/``) behind the console's gate.

    ``role`` is what every view of the blueprint needs (one of
    :data:`idp.identity.operators.ROLES`; a view may ask for another with
    :func:`manage.access.requires`). With ``label``, the console's menu and index link to
    ``endpoint`` (default: the blueprint's ``index`` view) for operators who hold the role.
    """
    prefix = blueprint.url_prefix or ""
    if not prefix.startswith(access.PREFIX + "/"):
        raise ValueError(f"a console blueprint lives under {access.PREFIX}/, not {prefix!r}")
    if role not in operators.ROLES:
        raise ValueError(f"unknown operator role {role!r}")
    app.extensions.setdefault("kleidi.manage.roles", {})[blueprint.name] = role
    app.register_blueprint(blueprint)
    if label is not None:
        areas = app.extensions.setdefault("kleidi.manage.areas", [])
        areas.append({"order": order, "endpoint": endpoint or f"{blueprint.name}.index",
                      "label": label, "description": description, "role": role})
        areas.sort(key=lambda area: area["order"])


def areas() -> list[dict]:
    """The console's areas the acting operator may open, in menu order."""
    from flask import current_app

    found = access.operator()
    return [area for area in current_app.extensions.get("kleidi.manage.areas", [])
            if found.has(area["role"])]


@bp.route("")
@access.requires(access.ANY_ROLE)
def index():
    return render_template("manage/index.html", operator=access.operator(),
                           labels=operators.LABELS)


def _is_operator() -> bool:
    return bool(access.roles())


def init_app(app: Flask) -> None:
    """The gate, the index and every area of the console."""
    from manage import (  # noqa: F401 (codes: the pages' error codes)
        applications,
        codes,
        nonpersonal,
        operators_views,
        people,
        relying_parties,
    )

    app.before_request(access.gate)
    navigation.add_return_area(app, access.PREFIX)  # the gate sends the operator back here
    app.register_blueprint(bp)
    app.add_template_global(areas, "manage_areas")
    app.add_template_global(access.operator, "console_operator")
    operators_views.init_app(app)
    people.init_app(app)
    nonpersonal.init_app(app)
    relying_parties.init_app(app)
    applications.init_app(app)
    navigation.add_link(app, "manage.index", _l("Operators' console"), signed_in=True,
                        order=90, shown=_is_operator)
