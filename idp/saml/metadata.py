"""The IdP's own SAML metadata, signed (RSA-SHA256) and with a validUntil, at /saml/metadata."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import xmlsec
from flask import current_app
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT

from idp import clock
from idp.saml import server as idp_server
from idp.saml import signing_keys, vocabulary

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NSMAP = {
    "md": MD, "ds": "http://www.w3.org/2000/09/xmldsig#",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "mdattr": "urn:oasis:names:tc:SAML:metadata:attribute",
    "mdui": "urn:oasis:names:tc:SAML:metadata:ui",
    "shibmd": "urn:mace:shibboleth:metadata:1.0",
    "remd": "http://refeds.org/metadata",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SIRTFI = "https://refeds.org/sirtfi"
SECURITY_CONTACT = "http://refeds.org/metadata/contactType/security"
REGENERATE_SECONDS = 3600  # well inside validUntil, so caches downstream never see it lapse


def _e(parent, name: str, text: str | None = None, **attributes):
    prefix, local = name.split(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{local}", **attributes)
    if text is not None:
        element.text = text
    return element


def signed_metadata() -> bytes:
    """The signed metadata document, regenerated hourly or when a key changes."""
    version = (signing_keys.version(current_app.config["KEYS_DIR"]),
               clock.timestamp() // REGENERATE_SECONDS)
    cached = current_app.extensions.get("kleidi.saml.metadata")
    if cached is None or cached[0] != version:
        cached = (version, sign(build()))
        current_app.extensions["kleidi.saml.metadata"] = cached
    return cached[1]


def build() -> etree._Element:
    config = current_app.config
    valid_until = clock.now() + timedelta(days=config["SAML_METADATA_VALID_DAYS"])
    entity_id = idp_server.entity_id()
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap=NSMAP, entityID=entity_id,
                         validUntil=valid_until.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         ID="_" + hashlib.sha256(entity_id.encode()).hexdigest()[:32])
    _entity_attributes(_e(root, "md:Extensions"))
    _idp_descriptor(root, config)
    _organization(root, config)
    _contacts(root, config)
    return root


def _entity_attributes(extensions) -> None:
    attributes = _e(extensions, "mdattr:EntityAttributes")
    for name, values in (
        ("urn:oasis:names:tc:SAML:attribute:assurance-certification", [SIRTFI]),
        ("http://macedir.org/entity-category-support", list(vocabulary.CATEGORY_RELEASE)),
    ):
        attribute = _e(attributes, "saml:Attribute", Name=name,
                       NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
        for value in values:
            _e(attribute, "saml:AttributeValue", value)


def _idp_descriptor(root, config) -> None:
    idp = _e(root, "md:IDPSSODescriptor",
             protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
             WantAuthnRequestsSigned="true" if config["SAML_REQUIRE_SIGNED_REQUESTS"] else "false")
    extensions = _e(idp, "md:Extensions")
    for scope in scopes(config):
        _e(extensions, "shibmd:Scope", scope, regexp="false")
    _ui_info(_e(extensions, "mdui:UIInfo"), config)
    # Every published signing certificate: the one in use, a staged next one, the previous.
    certificates = [("signing", str(p)) for p in signing_keys.published(config["KEYS_DIR"])]
    for use, certificate in [*certificates, ("encryption", idp_server.key_path("encryption", "crt"))]:
        descriptor = _e(idp, "md:KeyDescriptor", use=use)
        data = _e(_e(descriptor, "ds:KeyInfo"), "ds:X509Data")
        _e(data, "ds:X509Certificate", _certificate_body(certificate))
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        _e(idp, "md:SingleLogoutService", Binding=binding,
           Location=idp_server.endpoint_url("single_logout_service", binding))
    for name_format in (NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT):
        _e(idp, "md:NameIDFormat", name_format)
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        _e(idp, "md:SingleSignOnService", Binding=binding,
           Location=idp_server.endpoint_url("single_sign_on_service", binding))


def scopes(config) -> list[str]:
    """Every domain that appears in a scoped value we release (shibmd:Scope)."""
    domains = [config["SCOPE"], *config["INSTITUTION_DOMAINS"], *config["ROLE_DOMAINS"].values()]
    return list(dict.fromkeys(domains))


def _ui_info(info, config) -> None:
    for element, setting in (("mdui:DisplayName", "SAML_DISPLAY_NAME"),
                             ("mdui:Description", "SAML_DESCRIPTION"),
                             ("mdui:InformationURL", "SAML_INFORMATION_URL"),
                             ("mdui:PrivacyStatementURL", "SAML_PRIVACY_URL")):
        for lang in ("el", "en"):
            _e(info, element, config[setting][lang], **{XML_LANG: lang})
    _e(info, "mdui:Logo", config["SAML_LOGO_URL"], height="60", width="80")


def _organization(root, config) -> None:
    organization = _e(root, "md:Organization")
    for element in ("md:OrganizationName", "md:OrganizationDisplayName"):
        for lang in ("el", "en"):
            _e(organization, element, config[f"ORGANIZATION_NAME_{lang.upper()}"],
               **{XML_LANG: lang})
    for lang in ("el", "en"):
        _e(organization, "md:OrganizationURL", config["ORGANIZATION_URL"], **{XML_LANG: lang})


def _contacts(root, config) -> None:
    for kind, address, extra in (
        ("technical", config["SAML_TECHNICAL_CONTACT"], {}),
        ("support", f"mailto:{config['SUPPORT_EMAIL']}", {}),
        ("other", config["SAML_SECURITY_CONTACT"],
         {f"{{{NSMAP['remd']}}}contactType": SECURITY_CONTACT}),
    ):
        contact = _e(root, "md:ContactPerson", contactType=kind, **extra)
        _e(contact, "md:EmailAddress", address)


def _certificate_body(path: str) -> str:
    lines = Path(path).read_text().strip().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))


def sign(root: etree._Element) -> bytes:
    """Enveloped RSA-SHA256 signature over the whole document, first child of the root."""
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N,
                                       xmlsec.Transform.RSA_SHA256, ns="ds")
    root.insert(0, signature)
    reference = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256,
                                              uri=f"#{root.get('ID')}")
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    key = xmlsec.Key.from_file(idp_server.key_path("signing", "key"), xmlsec.KeyFormat.PEM)
    key.load_cert_from_file(idp_server.key_path("signing", "crt"), xmlsec.KeyFormat.PEM)
    context = xmlsec.SignatureContext()
    context.key = key
    context.register_id(root, "ID")
    context.sign(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
