"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import Blueprint, g, jsonify

from idp import db, migrate
from idp.store import store

bp = Blueprint("ops", __name__)


@bp.before_app_request
def _request_id() -> None:
    g.request_id = secrets.token_hex(8)


@bp.route("/healthz")
def healthz():
    """The process answers."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """The database (migrated) and the store answer; 503 otherwise."""
    checks = {"database": _database(), "store": "ok" if store().ping() else "unreachable"}
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _database() -> str:
    try:
        db.session().execute(sa.text("SELECT 1"))
        return "migrations pending" if migrate.pending() else "ok"
    except sa.exc.SQLAlchemyError:
        return "unreachable"
