"""SAML service providers as relying parties registered through the portal.

Checks the metadata an RP admin uploads (schema, https endpoints, key sizes); on approval
writes it and its release policy as a registration (``saml_service_provider`` and
``saml_release_policy``), which every instance's directory picks up when it next looks
(SAML_METADATA_CHECK_SECONDS): no restart.
"""

from __future__ import annotations

import base64
import ipaddress
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask, current_app
from lxml import etree
from saml2.xml.schema import XMLSchemaError
from saml2.xml.schema import validate as validate_schema

from idp import db
from idp.consent import Consent
from idp.relying_parties import kinds
from idp.relying_parties.kinds import Checked, Refused
from idp.saml import directory, index, providers, registrations, release, vocabulary

REMD_CONTACT_TYPE = "{http://refeds.org/metadata}contactType"
SECURITY_CONTACT = "http://refeds.org/metadata/contactType/security"


class SamlKind:
    """The SAML part of relying-party registration (see :class:`idp.relying_parties.kinds.Kind`)."""

    name = "saml"

    def check(self, settings: dict, identifier: str | None) -> Checked:
        entity = _one_entity(settings.get("metadata") or "")
        provider = entity.provider
        if identifier is not None and provider.entity_id != identifier:
            raise Refused("RP-004", "the entityID of a registered SP cannot change")
        if identifier is None and directory.find(provider.entity_id) is not None:
            raise Refused("RP-004", provider.entity_id)
        for endpoint in (*provider.acs, *provider.slo):
            _check_location(endpoint.location)
        for certificate in {*provider.signing_certs, *provider.encryption_certs}:
            _check_key(certificate)
        return Checked(identifier=provider.entity_id, settings={"metadata": entity.xml()},
                       requested=frozenset(provider.requested), names=dict(provider.names),
                       contacts=_contacts(entity.element))

    def attributes(self) -> tuple[str, ...]:
        return tuple(vocabulary.SAML_ATTRIBUTES)

    def publish(self, identifier: str, approved: dict, secret_hash: str | None, *,
                actor: str) -> None:
        xml = with_display_names(approved["settings"]["metadata"], approved["names"])
        registrations.add_metadata(xml, actor=actor)
        registrations.set_policy(identifier, attributes=approved["release"], actor=actor)

    def served(self) -> list[str]:
        return registrations.registered()

    def withdraw(self, identifier: str, *, actor: str) -> bool:
        known = registrations.remove(identifier, actor=actor)
        db.session().execute(sa.delete(Consent).where(Consent.relying_party == identifier))
        return known

    def preview(self, account, identifier: str, approved: dict) -> dict[str, list[str]]:
        provider = providers.parse_metadata(approved["settings"]["metadata"], "preview")[0]
        policy = providers.Policy(attributes=frozenset(approved["release"]))
        return release.values_for(account, index.with_policy(provider, policy))


def with_display_names(xml: str, names: dict) -> str:
    """The metadata with the approved names as its mdui:DisplayName where it has none (the
    consent page names the SP by them)."""
    entity = providers.read_document(xml, "approved")[0].element
    sp = entity.find(f"{{{providers.MD}}}SPSSODescriptor")
    if sp.xpath("md:Extensions/mdui:UIInfo/mdui:DisplayName", namespaces=providers.NS):
        return xml
    extensions = sp.find(f"{{{providers.MD}}}Extensions")
    if extensions is None:
        extensions = etree.Element(f"{{{providers.MD}}}Extensions")
        sp.insert(0, extensions)  # the schema wants it first
    info = extensions.find(f"{{{providers.MDUI}}}UIInfo")
    if info is None:
        info = etree.SubElement(extensions, f"{{{providers.MDUI}}}UIInfo")
    for lang in ("el", "en"):
        name = etree.SubElement(info, f"{{{providers.MDUI}}}DisplayName")
        name.set(providers.XML_LANG, lang)
        name.text = names[lang]
    return etree.tostring(entity, encoding="unicode")


def _one_entity(xml: str) -> providers.Entity:
    try:
        found = providers.read_document(xml, "metadata")
    except providers.MetadataError as error:
        raise Refused("RP-001", str(error)) from None
    if len(found) != 1 or found[0].element.getparent() is not None:
        raise Refused("RP-001", "the metadata must be one EntityDescriptor")
    try:
        validate_schema(etree.tostring(found[0].element, encoding="unicode"))
    except XMLSchemaError as error:
        detail = str(error.args[0].get("error", "")) if error.args else ""
        raise Refused("RP-001", detail.splitlines()[0] if detail else "schema") from None
    return found[0]


def _check_location(location: str) -> None:
    parts = urlsplit(location)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and _loopback(parts.hostname) and \
            current_app.config["ENV"] != "production":
        return
    raise Refused("RP-002", location)


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _check_key(body: str) -> None:
    try:
        key = x509.load_der_x509_certificate(base64.b64decode("".join(body.split()))).public_key()
    except ValueError as error:
        raise Refused("RP-001", f"a certificate cannot be read: {error}") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return
    if isinstance(key, ec.EllipticCurvePublicKey):
        return
    raise Refused("RP-003", f"{type(key).__name__} of {getattr(key, 'key_size', '?')} bits")


def _contacts(entity: etree._Element) -> dict:
    found = {}
    for contact in entity.iterchildren(f"{{{providers.MD}}}ContactPerson"):
        role = contact.get("contactType")
        if role == "other" and contact.get(REMD_CONTACT_TYPE) == SECURITY_CONTACT:
            role = "security"
        email = contact.findtext(f"{{{providers.MD}}}EmailAddress")
        if role in ("technical", "security") and email:
            found.setdefault(role, email.strip().removeprefix("mailto:"))
    return found


def init_app(app: Flask) -> None:
    kinds.register(app, SamlKind())
