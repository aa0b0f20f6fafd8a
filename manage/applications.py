"""The account office's applications (/manage/applications): the list, one application with
the HR registry's match or mismatch, and the actions approve, reject, verify and hand over.

The same core functions as ``kleidi applications`` (:mod:`idp.identity.applications`), with
the operator as the audited actor.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp import db
from idp.errors import KleidiError
from idp.identity.applications import handover, history, office, summary
from idp.identity.applications.models import STATUSES
from manage import access, people, register
from manage.application_forms import ApproveForm, HandOverForm, RejectForm, VerifyForm

bp = Blueprint("manage_applications", __name__, url_prefix="/manage/applications")


@bp.after_request
def _not_stored(response):
    # Personal data and set-password codes: never kept in the browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("")
def index():
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    rows = [summary.brief(found) for found in office.listing(status)]
    return render_template("manage/applications/index.html", rows=rows, status=status,
                           statuses=STATUSES)


def _page(serial: str, *, error=None, status: int = 200, **forms):
    application = office.find(serial)
    data = summary.describe(application)
    forms = {"approve": ApproveForm(), "reject": RejectForm(), "verify": VerifyForm(),
             "hand_over": HandOverForm(), **forms}
    return render_template("manage/applications/show.html", data=data, error=error,
                           forms=forms, events=history.events(application),
                           checks=office.verifications(application)), status


@bp.route("/<serial>")
def show(serial: str):
    return _page(serial)


def _act(serial: str, action, form_name: str, form):
    """Run ``action`` (the core function) when ``form`` is valid; a refusal is shown on the
    application's page with its code, nothing changed."""
    office.find(serial)
    if not form.validate_on_submit():
        return _page(serial, status=400, **{form_name: form})
    try:
        result = action()
    except KleidiError as refused:
        db.session().rollback()
        return _page(serial, error=refused.entry, status=refused.entry.status,
                     **{form_name: form})
    db.session().commit()
    return result


@bp.route("/<serial>/approve", methods=["POST"])
def approve(serial: str):
    form = ApproveForm()
    return _act(serial, lambda: _done(office.approve(
        serial, actor=access.operator().actor, link=form.link.data or None,
        note=form.note.data or None)), "approve", form)


@bp.route("/<serial>/reject", methods=["POST"])
def reject(serial: str):
    form = RejectForm()
    return _act(serial, lambda: _done(office.reject(
        serial, actor=access.operator().actor, reason=form.reason.data)), "reject", form)


@bp.route("/<serial>/verify", methods=["POST"])
def verify(serial: str):
    form = VerifyForm()

    def action():
        office.verify(serial, actor=access.operator().actor,
                      document_kind=form.document_kind.data, document_number=form.number.data,
                      evidence=list(form.evidence.data or []))
        return _done(office.find(serial))

    return _act(serial, action, "verify", form)


@bp.route("/<serial>/hand-over", methods=["POST"])
def hand_over(serial: str):
    form = HandOverForm()

    def action():
        code = handover.hand_over(serial, actor=access.operator().actor)
        application = office.find(serial)
        if code is None:
            return _done(application)
        return render_template("manage/applications/handover.html", code=code,
                               data=summary.describe(application),
                               hours=handover.lifetime_hours())

    return _act(serial, action, "hand_over", form)


def _done(application):
    return redirect(url_for(".show", serial=application.serial), 303)


def _applications_of(account) -> list[dict]:
    """The person's applications, for the helpdesk's page of the person."""
    return [summary.brief(found) for found in office.of_person(account.person_id)]


def init_app(app: Flask) -> None:
    register(app, bp, role="office", label=_l("Applications"),
             description=_l("staff applications: approve, verify identity, hand over"),
             order=10)
    people.add_panel(app, "manage/applications/_person.html", _applications_of)
