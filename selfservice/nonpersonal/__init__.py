"""Non-personal accounts from the owner's side: request one (name, purpose), see the
requests and their decisions, and set the password of an owned account.

The account office decides in the console (/manage/nonpersonal); see
:mod:`idp.identity.nonpersonal`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from idp import db, navigation, sessions
from idp.credentials.password_policy import policy
from idp.errors import KleidiError
from idp.identity import nonpersonal
from selfservice.mypassword.reauth import recent_login, signed_in
from selfservice.passwords import show_problems

bp = Blueprint("nonpersonal", __name__)

class RequestForm(FlaskForm):
    username = StringField(_l("Name of the account"), validators=[InputRequired(), Length(max=64)])
    purpose = TextAreaField(_l("What it is for"), validators=[InputRequired(), Length(max=500)])

class PasswordForm(FlaskForm):
    new = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=1024)])
    repeat = PasswordField(_l("New password again"), validators=[InputRequired(), Length(max=1024)])

NAME_PROBLEMS = {
    "malformed": _l("Use 4 to 32 lower-case Latin letters, digits, dots or hyphens, starting "
                    "with a letter."),
    "taken": _l("This name is taken. Choose another."),
}

@bp.route("/account/nonpersonal", methods=["GET", "POST"])
@signed_in
def index(account):
    allowed = nonpersonal.may_request(account)
    form = RequestForm()
    if form.validate_on_submit():
        if not allowed:
            raise KleidiError("MANAGE-009")
        try:
            nonpersonal.request(account, form.username.data, form.purpose.data)
        except nonpersonal.NonPersonalRefused as refused:
            form.username.errors = [*form.username.errors, NAME_PROBLEMS[str(refused)]]
        else:
            db.session().commit()
            return render_template("nonpersonal/requested.html", username=form.username.data.lower())
    status = 400 if request.method == "POST" else 200
    return render_template("nonpersonal/index.html", form=form, allowed=allowed,
                           requests=nonpersonal.owned_by(account)), status

@bp.route("/account/nonpersonal/<username>/password", methods=["GET", "POST"])
@recent_login
def password(account, username: str):
    try:
        owned = nonpersonal.owned_account(account, username)
    except nonpersonal.NonPersonalRefused:
        raise KleidiError("MANAGE-011") from None
    form = PasswordForm()
    if form.validate_on_submit():
        found = policy().problems(form.new.data, form.repeat.data, username=owned.username)
        if not found:
            nonpersonal.set_password(account, owned, form.new.data)
            db.session().commit()
            return render_template("nonpersonal/password_set.html", username=owned.username)
        show_problems(form.new, form.repeat, found, policy())
    form.new.data = form.repeat.data = ""
    return render_template("nonpersonal/password.html", form=form, owned=owned,
                           policy=policy()), 400 if request.method == "POST" else 200

def _may_request() -> bool:
    found = sessions.current_account()
    return found is not None and (nonpersonal.may_request(found)
                                  or bool(nonpersonal.owned_by(found)))

def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    navigation.add_link(app, "nonpersonal.index", _l("Non-personal accounts"), signed_in=True,
                        order=40, shown=_may_request)
