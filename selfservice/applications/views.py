"""The applicant's pages: apply, follow the application, choose the password."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import get_locale

from idp import errors
from idp.credentials.password_policy import policy
from idp.identity.applications import handover, history, office, status, submission
from selfservice.applications import forms
from selfservice.passwords import show_problems

bp = Blueprint("applications", __name__, url_prefix="/apply")
SUBMITTED_KEY = "applied_serial"


@bp.after_request
def _not_stored(response):
    # The pages hold personal data and codes: never kept in the browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/", methods=["GET", "POST"])
def apply():
    form = forms.ApplicationForm()
    if form.validate_on_submit():
        application, _secret = submission.submit(form.details(), language=str(get_locale()),
                                                 ip=request.remote_addr)
        session[SUBMITTED_KEY] = application.serial
        return redirect(url_for("applications.submitted"), 303)
    status_code = 400 if request.method == "POST" else 200
    return render_template("applications/apply.html", form=form), status_code


@bp.route("/submitted")
def submitted():
    serial = session.get(SUBMITTED_KEY)
    if not serial:
        return redirect(url_for("applications.apply"), 303)
    return render_template("applications/submitted.html", serial=serial)


@bp.route("/status", methods=["GET", "POST"])
def follow():
    form = forms.StatusForm()
    if request.method == "GET" and request.args.get("serial"):
        form.serial.data = request.args["serial"]
    if form.validate_on_submit():
        try:
            found = status.look_up(form.serial.data, form.secret.data, request.remote_addr)
        except errors.KleidiError as refused:
            return render_template("applications/status_form.html", form=form,
                                   error=refused.entry), refused.entry.status
        return render_template("applications/status.html", application=found,
                               events=history.events(found),
                               account=office.account_of(found))
    status_code = 400 if request.method == "POST" else 200
    return render_template("applications/status_form.html", form=form), status_code


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = forms.PasswordForm()
    account = None
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"]
        account = handover.account_of(handover.open_code(form.code.data, request.remote_addr))
    if form.validate_on_submit():
        found = handover.open_code(form.code.data, request.remote_addr)
        account = handover.account_of(found)
        problems = handover.password_problems(found, form.password.data,
                                              form.confirmation.data)
        if not problems:
            account = handover.set_password(found, form.password.data)
            return render_template("applications/password_done.html", account=account)
        show_problems(form.password, form.confirmation, problems, policy())
    status_code = 400 if request.method == "POST" else 200
    return render_template("applications/password.html", form=form, account=account,
                           policy=policy()), status_code
