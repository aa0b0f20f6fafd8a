"""Helpers of the relying-party tests: RP admins, metadata, the portal's forms."""

from __future__ import annotations

import re

from saml_support import cert_body

from idp import db
from idp.identity.models import Account
from idp.relying_parties.models import RelyingParty

MDUI = ('<md:Extensions><mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui">'
        '<mdui:DisplayName xml:lang="el">Βιβλιοθήκη</mdui:DisplayName>'
        '<mdui:DisplayName xml:lang="en">Library</mdui:DisplayName>'
        '</mdui:UIInfo></md:Extensions>')
CONTACTS = ('<md:ContactPerson contactType="technical"><md:EmailAddress>mailto:tech@sp.example.org'
            '</md:EmailAddress></md:ContactPerson>'
            '<md:ContactPerson xmlns:remd="http://refeds.org/metadata" contactType="other" '
            'remd:contactType="http://refeds.org/metadata/contactType/security">'
            '<md:EmailAddress>mailto:security@sp.example.org</md:EmailAddress></md:ContactPerson>')


def metadata(entity_id: str, acs: str, cert_path=None, *, mdui: bool = True,
             contacts: bool = True) -> str:
    """One SP EntityDescriptor, schema-valid, with display names and contacts if asked."""
    key = (f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
           f'{cert_body(cert_path)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
           '</md:KeyDescriptor>') if cert_path else ""
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'{MDUI if mdui else ""}{key}'
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="{acs}" index="0"/></md:SPSSODescriptor>{CONTACTS if contacts else ""}'
        '</md:EntityDescriptor>')


def rp_admin(make_account, username=None):
    """An active staff account: allowed to register services."""
    return make_account(username, role="staff")


def attribute_fields(reasons: dict[str, str]) -> dict:
    fields = {"attribute": list(reasons)}
    fields.update({f"reason-{name}": reason for name, reason in reasons.items()})
    return fields


def description(**overrides) -> dict:
    return {"name_el": "Υπηρεσία", "name_en": "Service", "technical_contact": "tech@example.org",
            "security_contact": "security@example.org", **overrides}


def registration(app, identifier: str) -> RelyingParty:
    with app.app_context():
        rp = db.session().query(RelyingParty).filter_by(identifier=identifier).one()
        db.session().expunge(rp)
        return rp


def email_of(app, username: str) -> str:
    with app.app_context():
        account = db.session().query(Account).filter_by(username=username).one()
        return account.eppn


def rp_id_from(location: str) -> int:
    return int(re.search(r"/rp/(\d+)", location).group(1))
