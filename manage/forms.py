"""The console's forms. Every one carries a CSRF token; every action asks for a reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
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
