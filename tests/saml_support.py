"""Test material for the SAML tests: throw-away keys and a minimal IdP/SP pair of metadata."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def make_keypair(folder: Path, name: str, bits: int = 2048) -> tuple[Path, Path]:
    """Write `<name>.key` and a self-signed `<name>.crt` (PEM) into `folder`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def cert_body(cert_path: Path) -> str:
    """The base64 body of a PEM certificate, as metadata carries it."""
    lines = cert_path.read_text().strip().splitlines()
    return "".join(lines[1:-1])


def sp_metadata(entity_id: str, acs: str, cert_path: Path | None = None, *,
                slo: str | None = None, authn_requests_signed: bool = False,
                encryption_cert: Path | None = None, extra: str = "") -> str:
    """SP metadata with one HTTP-POST ACS (index 0) and optionally an SLO endpoint."""
    keys = ""
    if cert_path:
        keys += _key_descriptor("signing", cert_path)
    if encryption_cert:
        keys += _key_descriptor("encryption", encryption_cert)
    slo_xml = "".join(
        f'<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:{b}" '
        f'Location="{slo}"/>' for b in ("HTTP-Redirect", "HTTP-POST")) if slo else ""
    signed = "true" if authn_requests_signed else "false"
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        f'entityID="{entity_id}">{extra}'
        f'<md:SPSSODescriptor AuthnRequestsSigned="{signed}" WantAssertionsSigned="true" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}{slo_xml}"
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>"
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="{acs}" index="0" isDefault="true"/>'
        "</md:SPSSODescriptor></md:EntityDescriptor>"
    )


def _key_descriptor(use: str, cert_path: Path) -> str:
    return (f'<md:KeyDescriptor use="{use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f"{cert_body(cert_path)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
            "</md:KeyDescriptor>")


def sign_xml(xml: str | bytes, key_path: Path, cert_path: Path | None = None, *,
             method=None, digest=None, c14n=None, transforms=None, element_id=None) -> str:
    """Sign the root (or the element with ID `element_id`) with an enveloped signature.

    The algorithms are parameters so that tests can produce what the IdP must refuse.
    """
    import xmlsec
    from lxml import etree

    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    element = root if element_id is None else root.xpath("//*[@ID=$i]", i=element_id)[0]
    signature = xmlsec.template.create(element, c14n or xmlsec.Transform.EXCL_C14N,
                                       method or xmlsec.Transform.RSA_SHA256, ns="ds")
    issuer = element.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer")
    if issuer is not None:
        issuer.addnext(signature)
    else:
        element.insert(0, signature)
    reference = xmlsec.template.add_reference(signature, digest or xmlsec.Transform.SHA256,
                                              uri=f"#{element.get('ID')}")
    for transform in transforms or (xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N):
        xmlsec.template.add_transform(reference, transform)
    if cert_path:
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    context = xmlsec.SignatureContext()
    key = xmlsec.Key.from_file(str(key_path), xmlsec.KeyFormat.PEM)
    if cert_path:
        key.load_cert_from_file(str(cert_path), xmlsec.KeyFormat.PEM)
    context.key = key
    context.register_id(element, "ID")
    context.sign(signature)
    return etree.tostring(root, encoding="unicode")


def authn_request(sp_entity_id: str, destination: str, *, request_id: str = "_req1",
                  instant: str | None = None, acs: str | None = None, extra: str = "",
                  attributes: str = "") -> str:
    """A plain AuthnRequest as an SP would send it."""
    if instant is None:
        instant = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    acs_attr = f' AssertionConsumerServiceURL="{acs}"' if acs else ""
    return (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="{request_id}" Version="2.0" IssueInstant="{instant}" '
        f'Destination="{destination}"{acs_attr}{attributes}>'
        f"<saml:Issuer>{sp_entity_id}</saml:Issuer>{extra}"
        "</samlp:AuthnRequest>"
    )
