"""Federation review (``/manage/relying-parties``, the ``federation`` role): the submitted
registrations, requested against approved attributes, a release preview for a test person,
approval with the release set, rejection with a reason, and withdrawal of a registration that
never served. The same core functions as ``kleidi rp``."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from idp import attributes, db
from idp.errors import CATALOGUE, KleidiError
from idp.identity import accounts
from idp.relying_parties import registration, review
from manage import access, register
from manage.forms import REASON

bp = Blueprint("manage_rp", __name__, url_prefix="/manage/relying-parties")


class ApproveForm(FlaskForm):
    """The release is read from the ``release`` checkboxes (see :func:`approve`)."""

    reason = StringField(REASON, validators=[Length(max=500)], id="approve-reason")


class RejectForm(FlaskForm):
    reason = StringField(_l("Why it is not approved (sent to the owners)"),
                         validators=[InputRequired(), Length(max=500)], id="reject-reason")


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Why it is withdrawn (sent to the owners)"),
                         validators=[InputRequired(), Length(max=500)], id="withdraw-reason")


@bp.route("")
def index():
    found = review.listed()
    waiting = [rp for rp in found if rp.state == "submitted"]
    return render_template("manage/relying_parties/index.html", waiting=waiting,
                           others=[rp for rp in found if rp.state != "submitted"])


@bp.route("/<int:rp_id>")
def show(rp_id: int):
    return _page(_load(rp_id))


@bp.post("/<int:rp_id>/approve")
def approve(rp_id: int):
    rp, form = _load(rp_id), ApproveForm()
    if not form.validate_on_submit():
        return _page(rp, approve_form=form), 400
    try:
        review.approve(rp, request.form.getlist("release"), actor=access.operator().actor,
                       reason=form.reason.data or "")
    except KleidiError as error:
        db.session().rollback()
        return _page(_load(rp_id), error=error.entry), error.entry.status
    db.session().commit()
    return redirect(url_for(".show", rp_id=rp_id), 303)


@bp.post("/<int:rp_id>/reject")
def reject(rp_id: int):
    rp, form = _load(rp_id), RejectForm()
    if not form.validate_on_submit():
        return _page(rp, reject_form=form), 400
    try:
        review.reject(rp, actor=access.operator().actor, reason=form.reason.data)
    except KleidiError as error:
        db.session().rollback()
        return _page(_load(rp_id), error=error.entry), error.entry.status
    db.session().commit()
    return redirect(url_for(".show", rp_id=rp_id), 303)


@bp.post("/<int:rp_id>/withdraw")
def withdraw(rp_id: int):
    rp, form = _load(rp_id), WithdrawForm()
    if not form.validate_on_submit():
        return _page(rp, withdraw_form=form), 400
    try:
        registration.withdraw(rp, actor=access.operator().actor, reason=form.reason.data)
    except KleidiError as error:
        db.session().rollback()
        return _page(_load(rp_id), error=error.entry), error.entry.status
    db.session().commit()
    return redirect(url_for(".index"), 303)


def _load(rp_id: int):
    rp = review.find(rp_id)
    if rp is None:
        raise KleidiError("GEN-001", relying_party=rp_id)
    return rp


def _page(rp, *, approve_form=None, reject_form=None, withdraw_form=None, error=None):
    """The review page, with the preview for ``?person=USERNAME`` if asked."""
    person = (request.args.get("person") or "").strip()[:64]
    account = accounts.find_by_username(person) if person else None
    release = request.args.getlist("release") or None
    preview = review.preview(rp, account, release) if account is not None else None
    return render_template(
        "manage/relying_parties/show.html", rp=rp, owners=registration.owners(rp),
        approve_form=approve_form or ApproveForm(), reject_form=reject_form or RejectForm(),
        withdraw_form=withdraw_form or WithdrawForm(), withdrawable=registration.may_withdraw(rp),
        error=error, person=person, preview=preview, labels=attributes.LABELS,
        unknown_person=CATALOGUE["RP-013"] if person and account is None else None,
        previewed=set(release if release is not None else rp.requested["attributes"]))


def init_app(app) -> None:
    register(app, bp, role="federation", label=_l("Relying parties"),
             description=_l("review registrations, approve releases"), order=40)
