"""The activation forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from idp.credentials.password_policy import fold
from selfservice.activation import identity

ROLE_LABELS = {"student": _l("I am a student"),
               "staff": _l("I am faculty or staff (in the HR registry)")}


#: Two-letter codes in CLDR that are no country: the EU, the euro area, the UN, "unknown",
#: "outlying Oceania", pseudo-locales, and territories with no ISO 3166-1 code of their own.
NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "AC", "CP", "CQ", "DG", "EA", "IC",
                 "TA"}


def countries() -> list[SelectChoice]:
    """Countries with their names in the page's language, Greece first, then in the
    language's alphabetical order (accents and case ignored, as a dictionary sorts them)."""
    names = Locale.parse(str(get_locale())).territories
    codes = sorted((code for code in names if len(code) == 2 and code.isalpha()
                    and code not in NOT_COUNTRIES), key=lambda code: fold(names[code]))
    return [SelectChoice("GR", names["GR"])] + [
        SelectChoice(code, names[code]) for code in codes if code != "GR"]


class RoleForm(FlaskForm):
    role = RadioField(_l("Your role"), validators=[InputRequired()])


class IdentifyForm(FlaskForm):
    registration_id = StringField(_l("Registration number"),
                                  validators=[InputRequired(), Length(max=40)])
    mobile = StringField(_l("Mobile phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    tin = StringField(_l("Tax number (AFM)"), validators=[Optional(), Length(max=20)])
    tin_country = SelectField(_l("Country that issued the tax number"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tin_country.choices = countries()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.mobile.data or "").strip() and not (self.email.data or "").strip():
            message = _l("Give the mobile or the email you declared on admission.")
            self.mobile.errors = [*self.mobile.errors, message]
            return False
        return valid

    def validate_mobile(self, field):
        if field.data and self.email.data:
            raise ValidationError(_l("Give either your mobile or your email, not both."))
        if field.data:
            field.normalized = identity.normalize_mobile(field.data)
            if field.normalized is None:
                raise ValidationError(_l("This is not a valid mobile number."))

    def validate_email(self, field):
        if field.data and not self.mobile.data:
            field.normalized = identity.normalize_email(field.data)
            if field.normalized is None:
                raise ValidationError(_l("This is not a valid email address."))

    def validate_tin(self, field):
        field.data = (field.data or "").replace(" ", "").upper() or None
        if field.data and not identity.valid_tin(field.data, self.tin_country.data):
            raise ValidationError(_l("This is not a valid tax number for that country."))


class PinForm(FlaskForm):
    pin = StringField(_l("PIN"), validators=[Optional(), Length(max=12)])


class AmkaForm(FlaskForm):
    amka = StringField(_l("AMKA (social security number)"),
                       validators=[InputRequired(), Length(max=20)])

    def validate_amka(self, field):
        field.data = field.data.replace(" ", "")
        if not identity.amka_number.is_valid(field.data):
            raise ValidationError(_l("This is not a valid AMKA: 11 digits, the first six "
                                     "your date of birth."))


class ForeignIdForm(FlaskForm):
    kind = RadioField(_l("What will you give?"), validators=[InputRequired()], choices=[
        SelectChoice("foreign", _l("A social security number of another country")),
        SelectChoice("ehic", _l("The number of my European Health Insurance Card")),
    ])
    ssn = StringField(_l("Social security number"), validators=[Optional(), Length(max=40)])
    ssn_country = SelectField(_l("Country that issued it"), validators=[Optional()])
    ehic = StringField(_l("European Health Insurance Card number (20 digits)"),
                       validators=[Optional(), Length(max=30)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ssn_country.choices = [SelectChoice("", "—"), *countries()]

    def validate_ssn(self, field):
        if self.kind.data != "foreign":
            return
        field.data = (field.data or "").strip().upper()
        if not identity.FOREIGN_SSN.fullmatch(field.data):
            raise ValidationError(_l("Give the number as written on your documents."))
        if self.ssn_country.data in ("", "GR"):
            raise ValidationError(_l("Choose the country that issued it (not Greece: a Greek "
                                     "number is an AMKA)."))

    def validate_ehic(self, field):
        if self.kind.data != "ehic":
            return
        field.data = (field.data or "").replace(" ", "")
        if not identity.valid_ehic(field.data):
            raise ValidationError(_l("The card's personal identification number has 20 digits."))


class ConsentForm(FlaskForm):
    consent_mobile = BooleanField(_l("Register my mobile for account recovery"))
    consent_email = BooleanField(_l("Register my email for account recovery"))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired()])
    confirmation = PasswordField(_l("New password, again"), validators=[InputRequired()])
