"""The console's forms. Every one carries a CSRF token; every action asks for a reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from idp.identity import operators

REASON = _l("Reason (kept in the audit trail)")


def role_choices() -> list[tuple[str, object]]:
    return [(role, operators.LABELS[role]) for role in operators.ROLES]


class GrantForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    role = SelectField(_l("Role"), choices=role_choices, validators=[InputRequired()])
    reason = StringField(REASON, validators=[InputRequired(), Length(max=200)])


class RevokeForm(FlaskForm):
    role = HiddenField(validators=[InputRequired(), AnyOf(operators.ROLES)])
    reason = StringField(REASON, validators=[InputRequired(), Length(max=200)])


class ReasonForm(FlaskForm):
    """An action on one subject that needs nothing but a reason."""

    reason = StringField(REASON, validators=[InputRequired(), Length(max=200)])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing (GET)

    q = StringField(_l("Username, name or registration number"),
                    validators=[InputRequired(), Length(min=2, max=100)])


class NamesForm(FlaskForm):
    """A person's names as the office read them on the identity document."""

    given_name_el = StringField(_l("Given name (Greek)"), validators=[InputRequired(), Length(max=100)])
    family_name_el = StringField(_l("Family name (Greek)"), validators=[InputRequired(), Length(max=100)])
    given_name_en = StringField(_l("Given name (Latin)"), validators=[InputRequired(), Length(max=100)])
    family_name_en = StringField(_l("Family name (Latin)"), validators=[InputRequired(), Length(max=100)])
    reason = StringField(_l("Document checked and reason (kept in the audit trail)"),
                         validators=[InputRequired(), Length(max=200)])


def evidence_choices() -> list[tuple[str, object]]:
    from idp.identity import extensions

    return [(kind, extensions.label(kind)) for kind in extensions.evidence_kinds()]


class ExtendForm(FlaskForm):
    """Proof of continued membership, and the account's new end (the office)."""

    until = DateField(_l("New end date"), validators=[InputRequired()])
    evidence = SelectField(_l("Proof shown"), choices=evidence_choices, validators=[InputRequired()])
    note = StringField(_l("What was checked (kept in the audit trail)"),
                       validators=[InputRequired(), Length(max=500)])
