"""Pages of the forgotten-password flow: each loads the flow, calls its step, renders."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from idp import flows
from idp.credentials import pins
from idp.credentials.password_policy import policy
from selfservice.mypassword import bp, recovery
from selfservice.mypassword.forms import NewPasswordForm, PinForm, RecoveryForm
from selfservice.passwords import show_problems

PIN_MESSAGES = {
    pins.WRONG: _l("The PIN is not correct. Check it and try again."),
    pins.MALFORMED: pins.FORMAT_MESSAGE,
    pins.EXPIRED: _l("The PIN has expired. Ask for a new one."),
    pins.USED: _l("This PIN was already used or replaced by a newer one. Use the latest PIN, "
                  "or ask for a new one."),
}


def _go(flow: flows.Flow):
    return redirect(url_for(f"mypassword.recovery_{flow.state}", flow_id=flow.id), 303)


@bp.route("/recovery", methods=["GET", "POST"])
def recovery_identify():
    form = RecoveryForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("mypassword/recovery_identify.html", form=form), status
    flow = recovery.begin(request.remote_addr)
    try:
        recovery.identify(flow, username=form.username.data,
                          mobile=getattr(form.mobile, "normalized", None),
                          email=getattr(form.email, "normalized", None),
                          language=str(get_locale()), ip=request.remote_addr)
    except pins.SendLimit as refused:
        return render_template("mypassword/recovery_identify.html", form=form,
                               limit=refused.message()), 429
    return _go(flow)


@bp.route("/recovery/<flow_id>/pin", methods=["GET", "POST"])
def recovery_pin_sent(flow_id):
    flow = flows.load(flow_id, recovery.KIND, expect="pin_sent")
    form, problem, resent, limit = PinForm(), None, False, None
    if form.validate_on_submit():
        if request.form.get("action") == "resend":
            try:
                recovery.resend(flow, request.remote_addr)
                resent = True
            except pins.SendLimit as refused:
                limit = refused.message()
        else:
            result = recovery.check_pin(flow, form.pin.data or "")
            if result == pins.OK:
                return _go(flow)
            problem = PIN_MESSAGES[result]
    form.pin.data = ""
    left = max(0, current_app.config["PIN_MAX_ATTEMPTS"] - flow.attempts)
    return render_template("mypassword/recovery_pin.html", form=form, flow=flow,
                           problem=problem, resent=resent, left=left,
                           limit=limit), 429 if limit else 200


@bp.route("/recovery/<flow_id>/password", methods=["GET", "POST"])
def recovery_password(flow_id):
    flow = flows.load(flow_id, recovery.KIND, expect="password")
    form = NewPasswordForm()
    if form.validate_on_submit():
        found = recovery.reset(flow, form.password.data, form.confirmation.data)
        if not found:
            return _go(flow)
        show_problems(form.password, form.confirmation, found, policy())
    status = 400 if request.method == "POST" else 200
    return render_template("mypassword/recovery_password.html", form=form, flow=flow,
                           policy=policy()), status


@bp.route("/recovery/<flow_id>/done")
def recovery_done(flow_id):
    flow = flows.load(flow_id, recovery.KIND, expect="done")
    return render_template("mypassword/recovery_done.html", username=flow.data["username"])
