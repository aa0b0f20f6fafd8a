"""The application form and the applicant's other forms (Flask-WTF: each with a CSRF token).

Validated with the libraries activation uses: phonenumbers (a mobile, default region
PHONE_REGION), email-validator (an external address, not the institution's), python-stdnum
(AMKA)."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from stdnum.gr import amka
from wtforms import DateField, PasswordField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from idp.identity.applications import labels
from idp.identity.roles import ROLES

GREEK = re.compile(r"[Α-Ωα-ωΆ-Ώά-ώϊϋΐΰ][Α-Ωα-ωΆ-Ώά-ώϊϋΐΰ' \-]{0,99}")
LATIN = re.compile(r"[A-Za-z][A-Za-z' \-]{0,99}")
DOCUMENT_NUMBER = re.compile(r"[A-Z0-9Α-Ω][A-Z0-9Α-Ω \-]{3,39}")
_GREEK_MESSAGE = _l("Write it in Greek letters.")
_LATIN_MESSAGE = _l("Write it in Latin letters (A-Z), as in your passport.")


def _pattern(pattern: re.Pattern, message):
    def check(_form, field):
        field.data = " ".join((field.data or "").split())
        if field.data and not pattern.fullmatch(field.data):
            raise ValidationError(message)
    return check


class ApplicationForm(FlaskForm):
    role = RadioField(_l("Your role"), validators=[InputRequired()])
    given_name_el = StringField(_l("Given name (in Greek)"),
                                validators=[InputRequired(), _pattern(GREEK, _GREEK_MESSAGE)])
    family_name_el = StringField(_l("Family name (in Greek)"),
                                 validators=[InputRequired(), _pattern(GREEK, _GREEK_MESSAGE)])
    given_name_en = StringField(_l("Given name (in Latin letters)"),
                                validators=[InputRequired(), _pattern(LATIN, _LATIN_MESSAGE)])
    family_name_en = StringField(_l("Family name (in Latin letters)"),
                                 validators=[InputRequired(), _pattern(LATIN, _LATIN_MESSAGE)])
    father_name = StringField(_l("Father's given name (in Greek)"),
                              validators=[InputRequired(), _pattern(GREEK, _GREEK_MESSAGE)])
    unit = StringField(_l("Department or unit"), validators=[InputRequired(), Length(max=200)])
    email = StringField(_l("Your personal email"), validators=[InputRequired(), Length(max=254)])
    mobile = StringField(_l("Mobile phone"), validators=[InputRequired(), Length(max=30)])
    amka = StringField(_l("AMKA (social security number)"),
                       validators=[Optional(), Length(max=20)])
    document_kind = SelectField(_l("Identity document"), validators=[InputRequired()])
    document_number = StringField(_l("Document number"),
                                  validators=[InputRequired(), Length(max=40)])
    contract_start = DateField(_l("Contract starts"), validators=[Optional()])
    contract_end = DateField(_l("Contract ends"), validators=[Optional()])
    supervisor = StringField(_l("Supervising faculty member"),
                             validators=[Optional(), Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = current_app.config
        self.role.choices = [SelectChoice(name, ROLES[name].label)
                             for name in config["APPLICATION_ROLES"]]
        self.document_kind.choices = [SelectChoice(kind, labels.document(kind))
                                      for kind in config["APPLICATION_DOCUMENTS"]]

    @property
    def under_contract(self) -> bool:
        return self.role.data in current_app.config["APPLICATION_CONTRACT_ROLES"]

    def validate_email(self, field):
        try:
            field.data = validate_email(field.data, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ValidationError(_l("This is not a valid email address.")) from None
        domain = field.data.rpartition("@")[2].lower()
        if any(domain == d or domain.endswith("." + d)
               for d in current_app.config["INSTITUTION_DOMAINS"]):
            raise ValidationError(_l("Give a personal email outside the institution: the "
                                     "account you apply for does not exist yet."))

    def validate_mobile(self, field):
        try:
            number = phonenumbers.parse(field.data, current_app.config["PHONE_REGION"])
        except phonenumbers.NumberParseException:
            number = None
        mobile = {phonenumbers.PhoneNumberType.MOBILE,
                  phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
        if number is None or not phonenumbers.is_valid_number(number) \
                or phonenumbers.number_type(number) not in mobile:
            raise ValidationError(_l("This is not a valid mobile number."))
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def validate_amka(self, field):
        field.data = (field.data or "").replace(" ", "") or None
        if field.data and not amka.is_valid(field.data):
            raise ValidationError(_l("This is not a valid AMKA: 11 digits, the first six "
                                     "your date of birth."))

    def validate_document_number(self, field):
        field.data = " ".join((field.data or "").upper().split())
        if not DOCUMENT_NUMBER.fullmatch(field.data):
            raise ValidationError(_l("Give the number as printed on the document."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.under_contract:
            self.contract_start.data = self.contract_end.data = self.supervisor.data = None
            return valid
        for field in (self.contract_start, self.contract_end, self.supervisor):
            if not field.data and not field.errors:
                field.errors = [*field.errors, _l("Contractors and collaborators give this.")]
                valid = False
        start, end = self.contract_start.data, self.contract_end.data
        if start and end and end < start:
            self.contract_end.errors = [*self.contract_end.errors,
                                        _l("The contract must end after it starts.")]
            valid = False
        return valid

    def details(self) -> dict:
        return {name: field.data for name, field in self._fields.items()
                if name != "csrf_token"}


class StatusForm(FlaskForm):
    serial = StringField(_l("Serial number"), validators=[InputRequired(), Length(max=20)])
    secret = StringField(_l("Secret"), validators=[InputRequired(), Length(max=40)])


class PasswordForm(FlaskForm):
    code = StringField(_l("Set-password code"), validators=[InputRequired(), Length(max=40)])
    password = PasswordField(_l("New password"), validators=[InputRequired()])
    confirmation = PasswordField(_l("New password, again"), validators=[InputRequired()])
