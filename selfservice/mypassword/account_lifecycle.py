"""The account page's lifecycle parts: validity, services (turned on and off here), where the
recovery contacts came from, and "download my data"."""

from __future__ import annotations

import json

from flask import Response, g, redirect, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired, Length

from idp import db
from idp.errors import KleidiError
from idp.identity import contacts, extensions, personal_data, services, standing, validity
from selfservice.mypassword import bp
from selfservice.mypassword.reauth import signed_in


class ServiceForm(FlaskForm):
    service = HiddenField(validators=[InputRequired(), Length(max=40)])
    action = HiddenField(validators=[AnyOf(["enable", "disable"])])


def account_lifecycle(account) -> dict:
    """What the page's lifecycle sections show (a template global, read once a request)."""
    if "kleidi_account_lifecycle" not in g:
        g.kleidi_account_lifecycle = {
            "state": standing.state(account), "ends_on": validity.ends_on(account),
            "extension": extensions.latest(account), "services": services.states(account),
            "contacts": contacts.recovery_contacts(account), "form": ServiceForm()}
    return g.kleidi_account_lifecycle


@bp.route("/account/services", methods=["POST"])
@signed_in
def set_service(account):
    form = ServiceForm()
    if not form.validate_on_submit():
        raise KleidiError("GEN-006")
    try:
        services.set_enabled(account, form.service.data, form.action.data == "enable")
    except services.ServiceRefused:
        raise KleidiError("ACCT-003") from None
    db.session().commit()
    return redirect(url_for("mypassword.account") + "#account-services", 303)


@bp.route("/account/data.json")
@signed_in
def download_data(account):
    body = json.dumps(personal_data.export(account), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{account.username}-data.json"',
        "Cache-Control": "no-store"})
