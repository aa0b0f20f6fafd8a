"""OIDC claims from the one internal attribute vocabulary, scope by scope.

``sub`` is the pairwise identifier of the person for the client's sector:
stable for that sector, different across sectors, and derived from the
AcademicID through a keyed hash so it reveals nothing about it.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749 import scope_to_list
from flask_babel import get_locale

from idp import attributes
from idp.identity.models import Account

#: claim -> (internal attribute, multi-valued?)
CLAIMS = {
    "name": ("display_name", False),
    "given_name": ("given_name", False),
    "family_name": ("family_name", False),
    "preferred_username": ("eppn", False),
    "email": ("email", False),
    "eduperson_principal_name": ("eppn", False),
    "eduperson_unique_id": ("eduperson_unique_id", False),
    "eduperson_affiliation": ("affiliation", True),
    "eduperson_scoped_affiliation": ("scoped_affiliation", True),
    "eduperson_primary_affiliation": ("primary_affiliation", False),
    "eduperson_entitlement": ("entitlement", True),
    "schac_home_organization": ("schac_home_organization", False),
    "schac_home_organization_type": ("schac_home_organization_type", False),
    "schac_personal_unique_code": ("schac_personal_unique_code", True),
    "schac_expiry_date": ("schac_expiry_date", False),
}

#: scope -> the claims it releases
SCOPE_CLAIMS = {
    "profile": ("name", "given_name", "family_name", "preferred_username"),
    "email": ("email",),
    "eduperson": (
        "eduperson_principal_name", "eduperson_unique_id", "eduperson_affiliation",
        "eduperson_scoped_affiliation", "eduperson_primary_affiliation", "eduperson_entitlement",
    ),
    "schac": (
        "schac_home_organization", "schac_home_organization_type", "schac_personal_unique_code",
        "schac_expiry_date",
    ),
}


@dataclass
class Subject:
    """A person as one client sees them: the account and the client it is released to."""

    account: Account
    client: object  # clients.Client

    @property
    def id(self):
        return self.account.id

    @property
    def sub(self) -> str:
        return attributes.pairwise_unique(self.account, self.client.sector)


@dataclass(frozen=True)
class TokenSubject:
    """A person as the token endpoint needs them: the account id (for the grant) and the
    pairwise ``sub`` (the only claim about them in the ID token). No ORM objects: this runs
    on every code exchange and refresh."""

    id: int
    sub: str


def _language() -> str:
    locale = get_locale()
    return "el" if locale is None or locale.language == "el" else "en"


def released_attributes(account: Account, client, scope: str) -> dict[str, list[str]]:
    """Internal attribute -> values released for ``scope`` (only approved scopes count)."""
    allowed = getattr(client, "released_attributes", None)
    wanted = [CLAIMS[claim][0] for scope_name in scope_to_list(scope or "")
              if scope_name in client.scopes for claim in SCOPE_CLAIMS.get(scope_name, ())]
    wanted = [internal for internal in wanted if allowed is None or internal in allowed]
    values = attributes.person_attributes(account, _language(), wanted)
    return {internal: values[internal] for internal in wanted if values.get(internal)}


def user_claims(subject: Subject, scope: str) -> dict:
    """The claims of ``subject`` for ``scope``: ``sub`` plus what the scopes release."""
    values = released_attributes(subject.account, subject.client, scope)
    claims = {"sub": subject.sub}
    for scope_name in scope_to_list(scope or ""):
        if scope_name not in subject.client.scopes:
            continue
        for claim in SCOPE_CLAIMS.get(scope_name, ()):
            internal, multi = CLAIMS[claim]
            if internal in values:
                claims[claim] = values[internal] if multi else values[internal][0]
    if "email" in claims:
        claims["email_verified"] = True  # an institutional address the IdP itself issued
    return claims


def supported_claims() -> list[str]:
    return ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
            "email_verified", *CLAIMS]
