"""Liveness and readiness for load balancers and orchestrators.

``/readyz`` costs one ``SELECT 1`` and one Redis ``PING``: the migration state is read once
(when a server process starts, see :func:`check_migrations`) and again only while it was
found pending, until ``kleidi init`` has brought the database up to date.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify

from idp import db, migrate
from idp.store import store

bp = Blueprint("ops", __name__)
_SELECT_ONE = sa.text("SELECT 1")


@bp.before_app_request
def _request_id() -> None:
    g.setdefault("request_id", secrets.token_hex(8))


@bp.route("/healthz")
def healthz():
    """The process answers."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """The database (migrated) and the store answer; 503 naming what does not, otherwise."""
    checks = {"database": _database(), "store": "ok" if store().ping() else "unreachable"}
    ready = all(value == "ok" for value in checks.values())
    response = jsonify(status="ok" if ready else "unavailable", checks=checks)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ready else 503


def check_migrations() -> bool:
    """Read whether every migration is applied; True (and remembered) when it is."""
    migrated = current_app.extensions.get("kleidi.migrated", False)
    if not migrated:
        migrated = current_app.extensions["kleidi.migrated"] = not migrate.pending()
    return migrated


def _database() -> str:
    try:
        db.session().execute(_SELECT_ONE)
        return "ok" if check_migrations() else "migrations pending"
    except sa.exc.SQLAlchemyError:
        return "unreachable"
