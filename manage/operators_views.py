"""Administration of operators (/manage/operators): who has which role; grant and revoke.

The same core functions as ``kleidi operator grant|revoke|list``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp import db
from idp.errors import CATALOGUE, KleidiError
from idp.identity import accounts, operators
from manage import access, forms, register

bp = Blueprint("manage_operators", __name__, url_prefix="/manage/operators")


@bp.route("", methods=["GET", "POST"])
def index():
    form, error = forms.GrantForm(), None
    if form.validate_on_submit():
        account = accounts.find_by_username(form.username.data)
        if account is None:
            raise KleidiError("MANAGE-004")
        try:
            operators.grant(account, form.role.data, actor=access.operator().actor,
                            reason=form.reason.data)
        except operators.OperatorRefused as refused:
            db.session().rollback()
            error = CATALOGUE[refused.code]
        else:
            db.session().commit()
            return redirect(url_for(".index"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("manage/operators.html", form=form, error=error,
                           found=operators.listing(), labels=operators.LABELS,
                           revoke=forms.RevokeForm()), status


@bp.route("/<username>/revoke", methods=["POST"])
def revoke(username: str):
    account = accounts.find_by_username(username)
    if account is None:
        raise KleidiError("MANAGE-004")
    form = forms.RevokeForm()
    if not form.validate_on_submit():
        raise KleidiError("MANAGE-007")
    operators.revoke(account, form.role.data, actor=access.operator().actor,
                     reason=form.reason.data)
    db.session().commit()
    return redirect(url_for(".index"), 303)


def init_app(app: Flask) -> None:
    register(app, bp, role=operators.ADMIN, label=_l("Operators"),
             description=_l("who may use the console, and with which role"), order=90)
