"""Activation pages: each view loads the flow, calls its step and renders or redirects."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
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
    pins.EXPIRED: _l("The PIN has expired. Ask for a new one."),
    pins.USED: _l("This PIN was already used or replaced by a newer one. Use the latest PIN, "
                  "or ask for a new one."),
}


def _load(flow_id: str, state: str | set[str]) -> flows.Flow:
    return flows.load(flow_id, steps.KIND, expect=state)


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
    flow = _load(flow_id, "identify")
    form = forms.IdentifyForm()
    if request.method == "GET":
        form.tin_country.data = "GR"
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("activation/identify.html", form=form, flow=flow), status
    steps.identify(flow, registration_id=form.registration_id.data,
                   mobile=getattr(form.mobile, "normalized", None),
                   email=getattr(form.email, "normalized", None), tin=form.tin.data,
                   tin_country=form.tin_country.data, language=str(get_locale()),
                   ip=request.remote_addr)
    return _go(flow)


@bp.route("/<flow_id>/pin", methods=["GET", "POST"], endpoint="pin_sent")
def pin(flow_id):
    flow = _load(flow_id, "pin_sent")
    form, problem = forms.PinForm(), None
    if form.validate_on_submit():
        if request.form.get("action") == "resend":
            steps.resend(flow, request.remote_addr)
            return redirect(url_for("activation.pin_sent", flow_id=flow.id, resent=1), 303)
        result = steps.check_pin(flow, form.pin.data or "")
        if result == pins.OK:
            return _go(flow)
        problem = PIN_MESSAGES[result]
    status = 400 if request.method == "POST" else 200
    left = current_app.config["PIN_MAX_ATTEMPTS"] - flow.attempts
    return render_template("activation/pin.html", form=form, flow=flow, problem=problem,
                           left=left, resent=request.args.get("resent")), status


@bp.route("/<flow_id>/amka", methods=["GET", "POST"])
def amka(flow_id):
    flow = _load(flow_id, "amka")
    other = request.args.get("other") == "1"
    form = forms.ForeignIdForm() if other else forms.AmkaForm()
    if form.validate_on_submit():
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
    flow = _load(flow_id, "review")
    form = forms.ConsentForm()
    if form.validate_on_submit():
        steps.consent(flow, mobile=form.consent_mobile.data, email=form.consent_email.data)
        return _go(flow)
    return render_template("activation/review.html", form=form, flow=flow,
                           data=steps.review(flow), roles=ROLES)


@bp.route("/<flow_id>/password", methods=["GET", "POST"])
def password(flow_id):
    flow = _load(flow_id, "password")
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
    return render_template("activation/done.html", username=flow.data["username"])
