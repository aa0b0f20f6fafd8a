"""Forms of the relying-party portal (CSRF on every one).

The requested attributes are not WTForms fields: each attribute the kind can release is a
checkbox ``attribute`` with a reason ``reason-<name>``, read by :func:`wanted_attributes`.
"""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

AUTH_METHODS = [
    SelectChoice("client_secret_basic",
                 _l("Client secret, sent with HTTP Basic (client_secret_basic)")),
    SelectChoice("client_secret_post",
                 _l("Client secret, sent in the form body (client_secret_post)")),
    SelectChoice("private_key_jwt", _l("A signed JWT with the client's key (private_key_jwt)")),
    SelectChoice("none", _l("None: a public client (an app in the browser or on a phone), "
                            "with PKCE")),
]


class ConfirmForm(FlaskForm):
    """Nothing but the CSRF token, for buttons that change state."""


class OwnerForm(FlaskForm):
    username = StringField(_l("Username of the co-owner"),
                           validators=[InputRequired(), Length(max=100)])


class DescriptionForm(FlaskForm):
    """What every relying party gives: its names and contacts."""

    name_el = StringField(_l("Name in Greek"), validators=[Optional(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])
    technical_contact = StringField(_l("Technical contact (email)"),
                                    validators=[Optional(), Length(max=254)])
    security_contact = StringField(_l("Security contact (email)"),
                                   validators=[Optional(), Length(max=254)])

    def names(self) -> dict:
        return {"el": self.name_el.data or "", "en": self.name_en.data or ""}

    def contacts(self) -> dict:
        return {"technical": self.technical_contact.data or "",
                "security": self.security_contact.data or ""}

    def fill(self, requested: dict) -> None:
        self.name_el.data, self.name_en.data = requested["names"]["el"], requested["names"]["en"]
        self.technical_contact.data = requested["contacts"]["technical"]
        self.security_contact.data = requested["contacts"]["security"]


class SamlForm(DescriptionForm):
    metadata_file = FileField(_l("Metadata file"))
    metadata_text = TextAreaField(_l("Or paste the metadata"),
                                  validators=[Optional(), Length(max=200_000)])

    def settings(self, max_bytes: int) -> dict:
        upload = self.metadata_file.data
        text = upload.read(max_bytes + 1).decode("utf-8", "replace") if upload else ""
        return {"metadata": text or self.metadata_text.data or ""}


class OidcForm(DescriptionForm):
    redirect_uris = TextAreaField(_l("Redirect URIs, one per line"),
                                  validators=[Optional(), Length(max=5000)])
    post_logout_redirect_uris = TextAreaField(_l("Post-logout redirect URIs, one per line"),
                                              validators=[Optional(), Length(max=5000)])
    backchannel_logout_uri = StringField(_l("Back-channel logout URI"),
                                         validators=[Optional(), Length(max=500)])
    auth_method = RadioField(_l("Token endpoint authentication"), choices=AUTH_METHODS,
                             default="client_secret_basic")
    jwks = TextAreaField(_l("Public keys (JWKS), for private_key_jwt"),
                         validators=[Optional(), Length(max=20_000)])
    jwks_uri = StringField(_l("Or the URL of the public keys (jwks_uri)"),
                           validators=[Optional(), Length(max=500)])

    def settings(self) -> dict:
        try:
            jwks = json.loads(self.jwks.data) if (self.jwks.data or "").strip() else None
        except ValueError:
            jwks = {"invalid": True}
        return {"redirect_uris": (self.redirect_uris.data or "").split(),
                "post_logout_redirect_uris": (self.post_logout_redirect_uris.data or "").split(),
                "backchannel_logout_uri": self.backchannel_logout_uri.data,
                "auth_method": self.auth_method.data, "jwks": jwks, "jwks_uri": self.jwks_uri.data}

    def fill_settings(self, settings: dict) -> None:
        self.redirect_uris.data = "\n".join(settings["redirect_uris"])
        self.post_logout_redirect_uris.data = "\n".join(settings["post_logout_redirect_uris"])
        self.backchannel_logout_uri.data = settings["backchannel_logout_uri"] or ""
        self.auth_method.data = settings["auth_method"]
        self.jwks.data = json.dumps(settings["jwks"]) if settings["jwks"] else ""
        self.jwks_uri.data = settings["jwks_uri"] or ""


def wanted_attributes(form_data, known) -> dict[str, str]:
    """{name: reason} of the ticked attributes (an empty reason is refused by the core)."""
    ticked = set(form_data.getlist("attribute"))
    return {name: form_data.get(f"reason-{name}", "")[:500] for name in known if name in ticked}
