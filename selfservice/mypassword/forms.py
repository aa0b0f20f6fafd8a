"""Forms of mypassword (CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length


class ConfirmForm(FlaskForm):
    """Nothing but the CSRF token, for buttons that change state."""


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[InputRequired(), Length(max=1024)])
    code = StringField(_l("Code from your authenticator app"), validators=[Length(max=20)])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app"),
                       validators=[InputRequired(), Length(max=20)])


class WithdrawForm(FlaskForm):
    relying_party = HiddenField(validators=[InputRequired(), Length(max=500)])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=1024)])
    new = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=1024)])
    repeat = PasswordField(_l("New password again"), validators=[
        InputRequired(), EqualTo("new", message=_l("The two new passwords are not the same."))])
