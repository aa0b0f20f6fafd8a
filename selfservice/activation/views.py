"""Activation pages: each view loads the flow, calls its step and renders or redirects."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from idp import flows
from idp.credentials import pins
from idp.credentials.password_policy import policy
from idp.identity.roles import ROLES
from selfservice.activation import completion, forms, steps
from selfservice.passwords import show_problems

bp = Blueprint("activation", __name__, url_prefix="/activate")

PIN_MESSAGES = {
    pins.WRONG: _l("The PIN is not correct. Check it and try again."),
    pins.MALFORMED: pins.FORMAT_MESSAGE,
    pins.EXPIRED: _l("The PIN has expired. Ask for a new one."),
    pins.USED: _l("This PIN was already used or replaced by a newer one. Use the latest PIN, "
                  "or ask for a new one."),
}


def _load(flow_id: str, state: str | set[str]) -> flows.Flow:
    return flows.load(flow_id, steps.KIND, expect=state)


def _open(flow_id: str, step: str) -> flows.Flow:
    """The flow for the page of ``step``: at that step, or past it and allowed back to it
    (the browser's Back button). A page past for good (the PIN) shows where the flow is."""
    flow = flows.load(flow_id, steps.KIND)
    if flow.state == step or steps.can_return(flow, step):
        return flow
    if request.method == "GET" and (steps.passed(flow, step) or flow.state == flows.DONE):
        abort(_go(flow))
    raise flows.IllegalTransition(flow, step)


@bp.after_request
def _not_stored(response):
    # Back and Forward must ask the server, which knows the step the flow is at (and the
    # registry data on these pages stay out of the browser's cache).
    response.headers["Cache-Control"] = "no-store"
    return response


def _go(flow: flows.Flow):
    return redirect(url_for(f"activation.{flow.state}", flow_id=flow.id), 303)


@bp.route("/", methods=["GET", "POST"])
def role():
    form = forms.RoleForm()
    form.role.choices = [forms.SelectChoice(name, forms.ROLE_LABELS.get(name, name))
                         for name in current_app.config["ACTIVATION_ROLES"]]
    if form.validate_on_submit():
        return _go(steps.begin(form.role.data, request.remote_addr))
    status = 400 if request.method == "POST" else 200
    return render_template("activation/role.html", form=form), status


@bp.route("/<flow_id>/identify", methods=["GET", "POST"])
def identify(flow_id):
    flow = _open(flow_id, "identify")
    form = forms.IdentifyForm()
    if request.method == "GET":
        form.tin_country.data = "GR"
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("activation/identify.html", form=form, flow=flow), status
    try:
        steps.return_to(flow, "identify")
        steps.identify(flow, registration_id=form.registration_id.data,
                       mobile=getattr(form.mobile, "normalized", None),
                       email=getattr(form.email, "normalized", None), tin=form.tin.data,
                       tin_country=form.tin_country.data, language=str(get_locale()),
                       ip=request.remote_addr)
    except pins.SendLimit as refused:
        return render_template("activation/identify.html", form=form, flow=flow,
                               limit=refused.message()), 429
    return _go(flow)


@bp.route("/<flow_id>/pin", methods=["GET", "POST"], endpoint="pin_sent")
def pin(flow_id):
    flow = _open(flow_id, "pin_sent")
    form, problem, limit = forms.PinForm(), None, None
    if form.validate_on_submit():
        if request.form.get("action") == "resend":
            try:
                steps.resend(flow, request.remote_addr)
            except pins.SendLimit as refused:
                limit = refused.message()
            else:
                return redirect(url_for("activation.pin_sent", flow_id=flow.id, resent=1), 303)
        else:
            result = steps.check_pin(flow, form.pin.data or "")
            if result == pins.OK:
                return _go(flow)
            problem = PIN_MESSAGES[result]
    status = 400 if problem else 429 if limit else 200
    left = current_app.config["PIN_MAX_ATTEMPTS"] - flow.attempts
    return render_template("activation/pin.html", form=form, flow=flow, problem=problem,
                           left=left, limit=limit, resent=request.args.get("resent")), status


@bp.route("/<flow_id>/amka", methods=["GET", "POST"])
def amka(flow_id):
    flow = _open(flow_id, "amka")
    other = request.args.get("other") == "1"
    form = forms.ForeignIdForm() if other else forms.AmkaForm()
    if form.validate_on_submit():
        steps.return_to(flow, "amka")
        if other:
            steps.give_foreign_id(flow, ssn=form.ssn.data, country=form.ssn_country.data,
                                  ehic=form.ehic.data)
            return _go(flow)
        if steps.give_amka(flow, form.amka.data) is None:
            return _go(flow)
        form.amka.errors.append(_l("This AMKA cannot be used."))
    status = 400 if request.method == "POST" else 200
    return render_template("activation/amka.html", form=form, flow=flow, other=other), status


@bp.route("/<flow_id>/review", methods=["GET", "POST"])
def review(flow_id):
    flow = _open(flow_id, "review")
    form = forms.ConsentForm()
    if form.validate_on_submit():
        steps.return_to(flow, "review")
        steps.consent(flow, mobile=form.consent_mobile.data, email=form.consent_email.data)
        return _go(flow)
    data = steps.review(flow)
    if request.method == "GET":  # the contact the PIN just proved is registered unless unticked
        form.consent_mobile.data = data["verified"] == "sms"
        form.consent_email.data = data["verified"] == "email"
    return render_template("activation/review.html", form=form, flow=flow, data=data,
                           roles=ROLES)


@bp.route("/<flow_id>/password", methods=["GET", "POST"])
def password(flow_id):
    flow = _open(flow_id, "password")
    form = forms.PasswordForm()
    if form.validate_on_submit():
        found = steps.password_problems(flow, form.password.data, form.confirmation.data)
        if not found:
            completion.complete(flow, form.password.data)
            return _go(flow)
        show_problems(form.password, form.confirmation, found, policy())
    status = 400 if request.method == "POST" else 200
    return render_template("activation/password.html", form=form, flow=flow,
                           policy=policy()), status


@bp.route("/<flow_id>/done")
def done(flow_id):
    flow = _load(flow_id, "done")
    return render_template("activation/done.html", username=flow.data["username"],
                           recovery=flow.data.get("recovery", True),
                           student=flow.data.get("role", "student") == "student")
