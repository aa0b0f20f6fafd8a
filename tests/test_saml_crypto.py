"""The in-process xmlsec backend behind pysaml2: signatures and encryption that others accept."""

import base64
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from saml2 import BINDING_HTTP_POST
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import SignatureError
from saml_support import make_keypair, sign_xml, sp_metadata

from idp.saml import crypto

SP = "https://sp.example.org/shibboleth"
ACS = "https://sp.example.org/Shibboleth.sso/SAML2/POST"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


@pytest.fixture
def keys(tmp_path):
    return {name: make_keypair(tmp_path, name) for name in ("idp", "sp", "attacker")}


@pytest.fixture
def server(tmp_path, keys):
    (tmp_path / "sp.xml").write_text(sp_metadata(SP, ACS, keys["sp"][1],
                                                 encryption_cert=keys["sp"][1]))
    config = IdPConfig()
    config.load({
        "entityid": "https://idp.example.org/saml/metadata",
        "crypto_backend": "XMLSecurity",  # replaced below; pysaml2 must not look for xmlsec1
        "key_file": str(keys["idp"][0]), "cert_file": str(keys["idp"][1]),
        "metadata": {"local": [str(tmp_path / "sp.xml")]},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [("https://idp.example.org/sso",
                                                      BINDING_HTTP_POST)]},
            "signing_algorithm": RSA_SHA256, "digest_algorithm": SHA256,
        }},
    })
    idp = Server(config=config)
    idp.sec = crypto.security_context(idp.config)
    return idp


def response(server, **kwargs):
    return str(server.create_authn_response(
        {"eduPersonPrincipalName": ["alice@example.org"]}, "_req1", ACS, SP,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="pairwise"),
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
        **kwargs))


def element_id(xml, local):
    return etree.fromstring(xml.encode()).xpath(f"//*[local-name()='{local}']/@ID")[0]


def test_pysaml2_signs_through_the_backend_and_an_independent_library_accepts_it(server, keys):
    xml = response(server, sign_response=True, sign_assertion=True)
    cert = keys["idp"][1].read_text()
    assert OneLogin_Saml2_Utils.validate_sign(xml, cert=cert, xpath="/samlp:Response/ds:Signature")
    assert OneLogin_Saml2_Utils.validate_sign(
        xml, cert=cert, xpath="/samlp:Response/saml:Assertion/ds:Signature")
    assert "rsa-sha256" in xml and "rsa-sha1" not in xml


def test_validation_accepts_only_the_given_key(server, keys):
    xml = response(server, sign_response=True)
    backend = server.sec.crypto
    rid = element_id(xml, "Response")
    node = "urn:oasis:names:tc:SAML:2.0:protocol:Response"
    assert backend.validate_signature(xml, str(keys["idp"][1]), "pem", node, rid)
    assert not backend.validate_signature(xml, str(keys["attacker"][1]), "pem", node, rid)


def test_a_key_in_keyinfo_is_never_trusted(keys):
    message = ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
               'ID="_x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"/>')
    forged = sign_xml(message, *keys["attacker"])  # carries the attacker's own certificate
    node = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest"
    backend = crypto.XmlsecBackend()
    assert backend.validate_signature(forged, str(keys["attacker"][1]), "pem", node, "_x")
    assert not backend.validate_signature(forged, str(keys["sp"][1]), "pem", node, "_x")


def test_tampered_content_fails(server, keys):
    xml = response(server, sign_response=True).replace("alice@example.org", "mallory@example.org")
    rid = element_id(xml, "Response")
    assert not server.sec.crypto.validate_signature(
        xml, str(keys["idp"][1]), "pem", "urn:oasis:names:tc:SAML:2.0:protocol:Response", rid)


@pytest.mark.parametrize("method, digest", [
    (xmlsec.Transform.RSA_SHA1, xmlsec.Transform.SHA256),
    (xmlsec.Transform.RSA_SHA256, xmlsec.Transform.SHA1),
])
def test_sha1_signatures_are_refused_even_when_mathematically_valid(keys, method, digest):
    message = ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
               'ID="_x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"/>')
    signed = sign_xml(message, keys["sp"][0], method=method, digest=digest)
    node = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest"
    assert not crypto.XmlsecBackend().validate_signature(signed, str(keys["sp"][1]), "pem",
                                                         node, "_x")


def test_signing_with_sha1_is_refused(server, keys):
    server.signing_algorithm = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    with pytest.raises(SignatureError):
        response(server, sign_response=True)


def test_encrypted_assertion_uses_aes_gcm_and_the_sp_can_decrypt_it(server, keys):
    xml = response(server, sign_assertion=True, encrypt_assertion=True)
    assert "saml:Assertion" not in xml and "<ns1:Assertion" not in xml
    assert "aes256-gcm" in xml and "tripledes" not in xml and "rsa-oaep-mgf1p" in xml
    document = etree.fromstring(xml.encode())
    encrypted = document.xpath("//*[local-name()='EncryptedData']")[0]
    assertion = OneLogin_Saml2_Utils.decrypt_element(encrypted, keys["sp"][0].read_text())
    assert assertion.xpath("local-name()") == "Assertion"
    assert b"alice@example.org" in etree.tostring(assertion)


def test_decrypt_round_trip_through_the_backend(server, keys):
    xml = response(server, encrypt_assertion=True)
    clear = crypto.XmlsecBackend().decrypt(xml, str(keys["sp"][0]))
    assert "alice@example.org" in clear and "EncryptedData" not in clear


def test_redirect_binding_signature_verifies_with_the_idp_certificate(server, keys):
    info = server.apply_binding(
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
        "<samlp:LogoutRequest/>", "https://sp.example.org/slo", relay_state="rs", sign=True,
        sigalg=RSA_SHA256)
    query = dict(parse_qsl(urlsplit(dict(info["headers"])["Location"]).query))
    assert query["SigAlg"] == RSA_SHA256
    signed = urlencode({k: query[k] for k in ("SAMLRequest", "RelayState", "SigAlg")}).encode()
    public_key = x509.load_pem_x509_certificate(keys["idp"][1].read_bytes()).public_key()
    public_key.verify(base64.b64decode(query["Signature"]), signed, padding.PKCS1v15(),
                      hashes.SHA256())


def test_version_reports_libxmlsec():
    assert crypto.XmlsecBackend().version.count(".") == 2


@pytest.mark.parametrize("cipher", sorted(crypto.DATA_ENCRYPTION))
def test_every_data_cipher_is_decrypted_by_libxmlsec1_and_python3_saml(keys, cipher):
    """Each block cipher an SP may ask for: the element comes back byte for byte, through two
    implementations that share no code with the encryption."""
    assertion = (b'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a">'
                 b"<saml:Issuer>https://idp.example.org</saml:Issuer>"
                 + "<saml:AttributeValue>Μαρία &amp; ✓</saml:AttributeValue>".encode()
                 + b"x" * 37 + b"</saml:Assertion>")
    for size in (0, 1, 15, 16, 17):  # CBC's padding at and around a block's edge
        clear = assertion.replace(b"x" * 37, b"y" * size)
        document = etree.fromstring(b'<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:'
                                    b'SAML:2.0:assertion">' + clear + b"</saml:EncryptedAssertion>")
        encrypted = crypto.encrypt_element(document[0], keys["sp"][1].read_bytes(), cipher)
        assert document[0] is encrypted and b"Assertion ID" not in etree.tostring(document)
        assert encrypted.find(f"{{{crypto.XENC}}}EncryptionMethod").get("Algorithm") == cipher
        manager = xmlsec.KeysManager()
        manager.add_key(xmlsec.Key.from_file(str(keys["sp"][0]), xmlsec.KeyFormat.PEM))
        copy = etree.fromstring(etree.tostring(document))
        xmlsec.EncryptionContext(manager).decrypt(copy[0])
        assert etree.tostring(copy[0]) == etree.tostring(etree.fromstring(clear))
        onelogin = OneLogin_Saml2_Utils.decrypt_element(
            etree.fromstring(etree.tostring(encrypted)), keys["sp"][0].read_text())
        assert etree.tostring(onelogin) == etree.tostring(etree.fromstring(clear))


def test_encrypting_for_a_certificate_that_is_not_an_rsa_one_is_refused():
    import datetime

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from saml2.sigver import EncryptError

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sp")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256())).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(EncryptError, match="not a certificate"):
        crypto.encrypt_element(etree.fromstring(b"<a/>"), b"-----BEGIN CERTIFICATE-----\nxx")
    with pytest.raises(EncryptError, match="not an RSA key"):
        crypto.encrypt_element(etree.fromstring(b"<a/>"), certificate)
