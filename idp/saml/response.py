"""The successful Response to an AuthnRequest, built as an lxml tree and signed in place.

pysaml2 builds a response as a tree of its own classes, serializes it with ElementTree, and its
signing backend parses that text again before signing and serializes it once more: about 1 ms
per login, a third of the budget of a whole answer. This module writes the same message of the
Web Browser SSO profile (SAML 2.0 profiles 4.1.4.2, and SAML2Int) directly: one tree, one
signature pass with libxmlsec1, one serialization. Error responses, metadata and logout stay
with pysaml2 (idp.saml.server); the keys and the cipher are the same (idp.saml.crypto).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import xmlsec
from lxml import etree

from idp import clock
from idp.saml import crypto, vocabulary

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"samlp": SAMLP, "saml": SAML}
ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
_XSI_TYPE = f"{{{XSI}}}type"


@dataclass(frozen=True)
class Signer:
    """The IdP's signing key (parsed once) and its certificate's base64 body for KeyInfo."""

    key: xmlsec.Key
    certificate: str


@dataclass(frozen=True)
class Subject:
    """Whom the assertion is about and for whom: NameID, audience, where it goes."""

    name_id: str
    name_id_format: str
    audience: str
    acs: str
    in_response_to: str | None


@dataclass(frozen=True)
class Authn:
    """How and when the person logged in (AuthnStatement)."""

    instant: int
    class_ref: str


def build(issuer: str, subject: Subject, authn: Authn, values: dict[str, list[str]], *,
          signer: Signer, lifetime: int, sign_response: bool = False,
          encrypt_for: bytes | None = None, data_encryption: str | None = None) -> str:
    """The Response as text: the assertion signed, then encrypted for the SP's certificate
    (PEM) if given, then the response signed if the SP's policy asks for it."""
    now = clock.now().replace(microsecond=0)
    response = _element(None, SAMLP, "Response", ID=_new_id(), Version="2.0",
                        IssueInstant=_instant(now), Destination=subject.acs)
    if subject.in_response_to:
        response.set("InResponseTo", subject.in_response_to)
    _issuer(response, issuer)
    status = _element(response, SAMLP, "Status")
    _element(status, SAMLP, "StatusCode", Value=SUCCESS)
    assertion = _assertion(response, issuer, subject, authn, values, now, lifetime)
    _sign(assertion, signer)
    if encrypt_for is not None:
        wrapper = etree.Element(f"{{{SAML}}}EncryptedAssertion", nsmap=NSMAP)
        assertion.addprevious(wrapper)
        wrapper.append(assertion)
        crypto.encrypt_element(assertion, encrypt_for, data_encryption)
    if sign_response:
        _sign(response, signer)
    return etree.tostring(response, encoding="unicode")


def _assertion(response, issuer, subject: Subject, authn: Authn, values, now, lifetime):
    expiry = _instant(now + timedelta(seconds=lifetime))
    assertion = _element(response, SAML, "Assertion", ID=_new_id(), Version="2.0",
                         IssueInstant=_instant(now))
    _issuer(assertion, issuer)
    about = _element(assertion, SAML, "Subject")
    _element(about, SAML, "NameID", subject.name_id, Format=subject.name_id_format,
             NameQualifier=issuer, SPNameQualifier=subject.audience)
    confirmation = _element(about, SAML, "SubjectConfirmation", Method=BEARER)
    data = _element(confirmation, SAML, "SubjectConfirmationData", NotOnOrAfter=expiry,
                    Recipient=subject.acs)
    if subject.in_response_to:
        data.set("InResponseTo", subject.in_response_to)
    conditions = _element(assertion, SAML, "Conditions", NotBefore=_instant(now),
                          NotOnOrAfter=expiry)
    restriction = _element(conditions, SAML, "AudienceRestriction")
    _element(restriction, SAML, "Audience", subject.audience)
    statement = _element(assertion, SAML, "AuthnStatement",
                         AuthnInstant=_instant(datetime.fromtimestamp(authn.instant, UTC)),
                         SessionIndex=_new_id())
    context = _element(statement, SAML, "AuthnContext")
    _element(context, SAML, "AuthnContextClassRef", authn.class_ref)
    _attributes(assertion, values)
    return assertion


def _attributes(assertion, values: dict[str, list[str]]) -> None:
    """One saml:Attribute per internal name (URI name format, usual FriendlyName)."""
    released = [(vocabulary.SAML_ATTRIBUTES[name], v) for name, v in values.items()
                if name in vocabulary.SAML_ATTRIBUTES and v]
    if not released:
        return  # an AttributeStatement needs at least one Attribute
    statement = _element(assertion, SAML, "AttributeStatement")
    for (friendly, name), items in released:
        attribute = _element(statement, SAML, "Attribute", Name=name, NameFormat=URI_FORMAT,
                             FriendlyName=friendly)
        for item in items:
            value = etree.SubElement(attribute, f"{{{SAML}}}AttributeValue",
                                     nsmap={"xs": XS, "xsi": XSI})
            value.set(_XSI_TYPE, "xs:string")
            value.text = item


def _sign(element, signer: Signer) -> None:
    """An enveloped RSA-SHA256 signature over `element`, placed after its Issuer (the schema
    order), with exclusive canonicalization: the SAML profile of XML Signature."""
    signature = xmlsec.template.create(element, xmlsec.Transform.EXCL_C14N,
                                       xmlsec.Transform.RSA_SHA256, ns="ds")
    reference = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256,
                                              uri="#" + element.get("ID"))
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    data = xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    xmlsec.template.x509_data_add_certificate(data).text = signer.certificate
    element[0].addnext(signature)  # element[0] is the Issuer
    context = xmlsec.SignatureContext()
    context.key = signer.key
    context.register_id(element, "ID")
    context.sign(signature)


def _issuer(parent, issuer: str) -> None:
    _element(parent, SAML, "Issuer", issuer, Format=ENTITY)


def _element(parent, namespace: str, name: str, text: str | None = None, **attributes):
    tag = f"{{{namespace}}}{name}"
    node = (etree.Element(tag, nsmap=NSMAP) if parent is None
            else etree.SubElement(parent, tag))
    for key, value in attributes.items():
        node.set(key, value)
    if text is not None:
        node.text = text
    return node


def _new_id() -> str:
    # xs:ID must not start with a digit; 160 random bits
    return "_" + secrets.token_hex(20)


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
