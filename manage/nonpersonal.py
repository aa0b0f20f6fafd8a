"""The account office's decisions on non-personal accounts (/manage/nonpersonal): the same
core functions as ``kleidi nonpersonal list|approve|reject``."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from idp import db
from idp.errors import KleidiError
from idp.identity import nonpersonal
from idp.identity.models import Account
from manage import access, forms, register

bp = Blueprint("manage_nonpersonal", __name__, url_prefix="/manage/nonpersonal")


@bp.route("")
def index():
    found = [(r, db.session().get(Account, r.owner_account_id)) for r in nonpersonal.pending()]
    return render_template("manage/nonpersonal.html", found=found, form=forms.ReasonForm())


def _decide(decide, request_id: int):
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        raise KleidiError("MANAGE-007")
    try:
        decide(request_id, actor=access.operator().actor, reason=form.reason.data)
    except nonpersonal.NonPersonalRefused as refused:
        db.session().rollback()
        raise KleidiError(refused.code) from None
    db.session().commit()
    return redirect(url_for(".index"), 303)


@bp.route("/<int:request_id>/approve", methods=["POST"])
def approve(request_id: int):
    return _decide(nonpersonal.approve, request_id)


@bp.route("/<int:request_id>/reject", methods=["POST"])
def reject(request_id: int):
    return _decide(nonpersonal.reject, request_id)


def init_app(app: Flask) -> None:
    register(app, bp, role="office", label=_l("Non-personal accounts"),
             description=_l("requests of faculty and heads of units"), order=30)
