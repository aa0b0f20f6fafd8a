"""The account office's forms on an application (each with a CSRF token)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import InputRequired, Length, Optional

from idp.identity.applications import labels, office
from manage.forms import REASON


class ApproveForm(FlaskForm):
    link = StringField(_l("Link to the account of (username, if the applicant already has one)"),
                       validators=[Optional(), Length(max=64)])
    note = StringField(REASON, validators=[Optional(), Length(max=200)])


class RejectForm(FlaskForm):
    reason = StringField(_l("Reason (the applicant reads it)"),
                         validators=[InputRequired(), Length(max=500)])


class VerifyForm(FlaskForm):
    document_kind = SelectField(_l("Identity document seen"), validators=[InputRequired()])
    number = StringField(_l("Its number"), validators=[InputRequired(), Length(max=40)])
    evidence = SelectMultipleField(_l("Further evidence seen"), validators=[Optional()],
                                   option_widget=widgets.CheckboxInput(),
                                   widget=widgets.ListWidget(prefix_label=False))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.document_kind.choices = [(kind, labels.document(kind))
                                      for kind in current_app.config["APPLICATION_DOCUMENTS"]]
        self.evidence.choices = [(kind, labels.evidence(kind))
                                 for kind in office.evidence_kinds()]


class HandOverForm(FlaskForm):
    """Nothing but the CSRF token: the hand-over needs no input."""
