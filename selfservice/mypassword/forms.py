"""Forms of mypassword (CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError


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
    repeat = PasswordField(_l("New password again"), validators=[InputRequired(), Length(max=1024)])


def _normalizers():
    from selfservice.activation import identity

    return identity.normalize_mobile, identity.normalize_email


class RecoveryForm(FlaskForm):
    """Username plus exactly one of the registered mobile or external email."""

    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    mobile = StringField(_l("Mobile phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("External email"), validators=[Optional(), Length(max=254)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        mobile, email = (self.mobile.data or "").strip(), (self.email.data or "").strip()
        if bool(mobile) == bool(email):
            self.mobile.errors = [*self.mobile.errors, _l(
                "Give either the mobile or the external email registered for your account "
                "(one of the two).")]
            return False
        return valid

    def validate_mobile(self, field):
        if field.data:
            field.normalized = _normalizers()[0](field.data)
            if field.normalized is None:
                raise ValidationError(_l("This is not a valid mobile number."))

    def validate_email(self, field):
        if field.data:
            field.normalized = _normalizers()[1](field.data)
            if field.normalized is None:
                raise ValidationError(_l("This is not a valid email address."))


class PinForm(FlaskForm):
    pin = StringField(_l("PIN"), validators=[Optional(), Length(max=12)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=1024)])
    confirmation = PasswordField(_l("New password again"),
                                 validators=[InputRequired(), Length(max=1024)])


class ContactForm(FlaskForm):
    """A new mobile or a new external email (one at a time)."""

    kind = HiddenField(validators=[InputRequired(), AnyOf(["mobile", "email"])])
    mobile = StringField(_l("New mobile phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("New external email"), validators=[Optional(), Length(max=254)])

    def value(self) -> str | None:
        """The typed contact in its normal form (E.164, normalised address), or None."""
        normalize_mobile, normalize_email = _normalizers()
        if self.kind.data == "mobile":
            return normalize_mobile(self.mobile.data or "")
        return normalize_email(self.email.data or "")
