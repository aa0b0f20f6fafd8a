"""Pages for changing the recovery contacts (signed in, with a recent login)."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from idp import db
from idp.credentials import pins
from idp.errors import CATALOGUE
from selfservice.mypassword import bp, contacts
from selfservice.mypassword.forms import ContactForm, PinForm
from selfservice.mypassword.reauth import recent_login, signed_in
from selfservice.mypassword.recovery_views import PIN_MESSAGES


@bp.route("/account/contacts", methods=["GET", "POST"])
@recent_login
def contacts_page(account):
    form, error, invalid, limit = ContactForm(), None, None, None
    if form.validate_on_submit():
        value = form.value()
        if value is None:
            invalid = form.kind.data
        else:
            code = contacts.problem(account, form.kind.data, value)
            if code is None:
                try:
                    flow = contacts.begin(account, form.kind.data, value,
                                          language=str(get_locale()), ip=request.remote_addr)
                    return redirect(url_for("mypassword.contacts_pin", flow_id=flow.id), 303)
                except pins.SendLimit as refused:
                    db.session().rollback()
                    limit = refused.message()
            else:
                error = CATALOGUE[code]
    status = 400 if request.method == "POST" else 200
    return render_template("mypassword/contacts.html", account=account, form=form, error=error,
                           invalid=invalid, limit=limit), status


@bp.route("/account/contacts/<flow_id>/pin", methods=["GET", "POST"])
@signed_in
def contacts_pin(account, flow_id):
    flow = contacts.load(flow_id, account, "pin_sent")
    form, problem, resent, limit = PinForm(), None, False, None
    if form.validate_on_submit():
        if request.form.get("action") == "resend":
            try:
                contacts.resend(flow, request.remote_addr)
                resent = True
            except pins.SendLimit as refused:
                limit = refused.message()
        else:
            result = contacts.confirm(flow, account, form.pin.data or "")
            if result == pins.OK:
                return render_template("mypassword/contacts_done.html", kind=flow.data["kind"],
                                       value=flow.data["value"])
            problem = PIN_MESSAGES[result]
    form.pin.data = ""
    left = max(0, current_app.config["PIN_MAX_ATTEMPTS"] - flow.attempts)
    return render_template("mypassword/contacts_pin.html", form=form, flow=flow,
                           problem=problem, resent=resent, left=left,
                           limit=limit), 429 if limit else 200
