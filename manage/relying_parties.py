"""Federation review (``/manage/relying-parties``, the ``federation`` role): the submitted
registrations, requested against approved attributes, a release preview for a test person,
approval with the release set, rejection with a reason, withdrawal of a registration that
never served, and the removal of any service in force, however it was registered. The same
core functions as ``kleidi rp``, ``kleidi sp remove`` and ``kleidi client remove``."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from idp import attributes, db
from idp.errors import CATALOGUE, KleidiError
from idp.identity import accounts
from idp.relying_parties import registration, review
from idp.relying_parties.models import KINDS
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


class RemoveForm(FlaskForm):
    kind = HiddenField(validators=[InputRequired(), AnyOf(KINDS)])
    identifier = HiddenField(validators=[InputRequired(), Length(max=1024)])
    reason = StringField(_l("Why it is removed (kept in the audit trail, sent to the owners)"),
                         validators=[InputRequired(), Length(max=500)], id="remove-reason")


@bp.route("")
def index():
    found = review.listed()
    waiting = [rp for rp in found if rp.state == "submitted"]
    return render_template("manage/relying_parties/index.html", waiting=waiting,
                           others=[rp for rp in found if rp.state != "submitted"],
                           served=review.served(),
                           registered={rp.identifier: rp.id for rp in found})


@bp.route("/<int:rp_id>")
def show(rp_id: int):
    return _page(_load(rp_id))


@bp.post("/<int:rp_id>/approve")
def approve(rp_id: int):
    rp = _load(rp_id)
    return _act(ApproveForm(), lambda sent: review.approve(
        rp, request.form.getlist("release"), actor=_actor(), reason=sent.reason.data or ""),
        again=_review_page(rp_id, "approve_form"), done=lambda: _to(".show", rp_id=rp_id))


@bp.post("/<int:rp_id>/reject")
def reject(rp_id: int):
    rp = _load(rp_id)
    return _act(RejectForm(), lambda sent: review.reject(
        rp, actor=_actor(), reason=sent.reason.data),
        again=_review_page(rp_id, "reject_form"), done=lambda: _to(".show", rp_id=rp_id))


@bp.post("/<int:rp_id>/withdraw")
def withdraw(rp_id: int):
    rp = _load(rp_id)
    return _act(WithdrawForm(), lambda sent: registration.withdraw(
        rp, actor=_actor(), reason=sent.reason.data),
        again=_review_page(rp_id, "withdraw_form"), done=lambda: _to(".index"))


@bp.route("/remove", methods=["GET", "POST"])
def remove():
    """Stop a service in force (``?kind=&identifier=``): what ends, a reason, and a button."""
    form = RemoveForm(kind=request.args.get("kind"), identifier=request.args.get("identifier"))
    if request.method == "GET":
        if (form.kind.data, form.identifier.data) not in review.served():
            raise KleidiError("RP-016", relying_party=form.identifier.data)
        return _remove_page(form)
    gone = {"kind": form.kind.data, "identifier": form.identifier.data}

    def done():
        session[_REMOVED] = gone
        return _to(".removed", **gone)

    return _act(form, lambda sent: review.remove(
        sent.kind.data, sent.identifier.data, actor=_actor(), reason=sent.reason.data),
        again=_remove_page, done=done)


#: The session's record of the operator's last removal, for the page that tells of it.
_REMOVED = "kleidi.manage.removed"


@bp.get("/removed")
def removed():
    """What a removal did: the page its form redirects to, so that a reload repeats nothing.
    Only the removal this operator just made is told of, and only while it is not served
    again; anything else goes back to the list."""
    gone = {"kind": request.args.get("kind"), "identifier": request.args.get("identifier")}
    if session.get(_REMOVED) != gone or (gone["kind"], gone["identifier"]) in review.served():
        return _to(".index")
    return render_template("manage/relying_parties/removed.html", **gone)


def _act(form, act, *, again, done):
    """The shape of every action here: ``form`` must be valid, else ``again(form)`` shows the
    page with its errors (400); ``act(form)`` calls the core function with the operator as
    actor; a refusal rolls it all back and ``again(form, error)`` shows its code; else the
    change is committed and ``done()`` answers."""
    if not form.validate_on_submit():
        return again(form), 400
    try:
        act(form)
    except KleidiError as error:
        db.session().rollback()
        return again(form, error.entry), error.entry.status
    db.session().commit()
    return done()


def _actor() -> str:
    return access.operator().actor


def _to(endpoint: str, **values):
    return redirect(url_for(endpoint, **values), 303)


def _review_page(rp_id: int, slot: str):
    """The registration's page again, with ``form`` in its ``slot`` (or with a refusal)."""
    return lambda form, error=None: _page(_load(rp_id), error=error, **{slot: form})


def _remove_page(form, error=None):
    """The confirmation, naming the registration and its owners if the service has one."""
    rp = review.find(form.identifier.data or "")
    rp = rp if rp is not None and rp.kind == form.kind.data else None
    return render_template("manage/relying_parties/remove.html", form=form, error=error, rp=rp,
                           owners=registration.owners(rp) if rp is not None else [])


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
