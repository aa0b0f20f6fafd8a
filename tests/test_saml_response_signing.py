"""The signatures of a successful Response: the bytes libxmlsec1 writes, and what others accept."""

import itertools
import threading
from datetime import UTC, datetime

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from saml_support import make_keypair

from idp.saml import response

SP = "https://sp.example.org/shibboleth"
ACS = "https://sp.example.org/Shibboleth.sso/SAML2/POST"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
VALUES = {"eppn": ["anna@example.edu"], "display_name": ["Άννα Παπαδοπούλου & <Anna>"],
          "scoped_affiliation": ["student@example.edu", "member@example.edu"]}
NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def keypair(tmp_path):
    return make_keypair(tmp_path, "idp")


@pytest.fixture
def signer(keypair):
    key_path, cert_path = keypair
    body = "".join(line for line in cert_path.read_text().splitlines()
                   if line and not line.startswith("-----"))
    return response.Signer(key=serialization.load_pem_private_key(key_path.read_bytes(), None),
                           certificate=body)


@pytest.fixture
def fixed(monkeypatch):
    """The same IDs and instants on every build, so that two builds can be compared."""
    def restart():
        counter = itertools.count()
        monkeypatch.setattr(response, "new_id", lambda: f"_{next(counter):040d}")
    monkeypatch.setattr(response.clock, "now", lambda: NOW)
    return restart


def build(signer, **options):
    return response.build(
        "https://idp.example.edu/saml",
        response.Subject(name_id="pairwise-value", name_id_format=PERSISTENT, audience=SP,
                         acs=ACS, in_response_to="_request"),
        response.Authn(instant=int(NOW.timestamp()) - 60,
                       class_ref="urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                       session_index="_session"),
        VALUES, signer=signer, lifetime=300, **options)


def libxmlsec1_sign(key_path):
    """The reference: libxmlsec1 filling in the same signature template."""
    key = xmlsec.Key.from_file(str(key_path), xmlsec.KeyFormat.PEM)

    def sign(element, signature, signer):
        signature[0][2].set("URI", "#" + element.get("ID"))
        signature[2][0][0].text = signer.certificate
        context = xmlsec.SignatureContext()
        context.key = key
        context.register_id(element, "ID")
        context.sign(signature)
    return sign


@pytest.mark.parametrize("options", [{}, {"sign_response": False}, {"sign_assertion": False}],
                         ids=["both", "assertion only", "response only"])
def test_the_signatures_are_the_bytes_libxmlsec1_writes(signer, keypair, fixed, monkeypatch,
                                                          options):
    fixed()
    ours = build(signer, **options)
    fixed()
    monkeypatch.setattr(response, "_sign", libxmlsec1_sign(keypair[0]))
    reference = build(signer, **options)
    assert ours == reference
    assert ours.count("<ds:SignatureValue>") == (2 if not options else 1)


def test_an_independent_library_verifies_both_signatures_and_refuses_a_changed_one(
        signer, keypair):
    xml = build(signer)
    cert = keypair[1].read_text()
    response_signature = "/samlp:Response/ds:Signature"
    assertion_signature = "/samlp:Response/saml:Assertion/ds:Signature"
    assert OneLogin_Saml2_Utils.validate_sign(xml, cert=cert, xpath=response_signature)
    assert OneLogin_Saml2_Utils.validate_sign(xml, cert=cert, xpath=assertion_signature)

    changed = xml.replace("student@example.edu", "faculty@example.edu")
    assert not OneLogin_Saml2_Utils.validate_sign(changed, cert=cert, xpath=response_signature)
    assert not OneLogin_Saml2_Utils.validate_sign(changed, cert=cert, xpath=assertion_signature)


def test_an_encrypted_assertion_is_signed_inside_and_the_response_over_it(signer, keypair,
                                                                          tmp_path):
    sp_key, sp_cert = make_keypair(tmp_path, "sp")
    xml = build(signer, encrypt_for=sp_cert.read_bytes())
    cert = keypair[1].read_text()
    assert OneLogin_Saml2_Utils.validate_sign(xml, cert=cert, xpath="/samlp:Response/ds:Signature")

    document = etree.fromstring(xml.encode())
    encrypted = document.find(f"{{{response.SAML}}}EncryptedAssertion")
    assertion = OneLogin_Saml2_Utils.decrypt_element(encrypted[0], sp_key.read_text())
    decrypted = etree.tostring(assertion, encoding="unicode")
    assert "anna@example.edu" in decrypted
    assert OneLogin_Saml2_Utils.validate_sign(decrypted, cert=cert,
                                              xpath="/saml:Assertion/ds:Signature")


def test_a_response_built_in_a_server_thread_is_signed_the_same(signer, keypair, fixed,
                                                                 monkeypatch):
    """A served request's thread parses the AuthnRequest before building the answer; lxml's
    canonicalization must not depend on what its thread parsed first."""
    fixed()
    reference = build(signer)
    built = []

    def request_thread():
        etree.fromstring(b"<samlp:AuthnRequest xmlns:samlp='urn:x'/>")
        fixed()
        built.append(build(signer))

    thread = threading.Thread(target=request_thread)
    thread.start()
    thread.join()
    assert built == [reference]
    cert = keypair[1].read_text()
    assert OneLogin_Saml2_Utils.validate_sign(built[0], cert=cert,
                                              xpath="/samlp:Response/saml:Assertion/ds:Signature")


def test_the_binding_of_the_xs_prefix_in_attribute_types_is_signed(signer, keypair):
    """xsi:type="xs:string" names a type by a prefix that exclusive canonicalization alone
    leaves out; rebinding it must break the signatures (SAML core 5.4.4)."""
    xml = build(signer)
    cert = keypair[1].read_text()
    assert 'xsi:type="xs:string"' in xml and "InclusiveNamespaces" in xml
    rebound = xml.replace('xmlns:xs="http://www.w3.org/2001/XMLSchema"',
                          'xmlns:xs="https://attacker.example/types"')
    assert rebound != xml
    for path in ("/samlp:Response/ds:Signature", "/samlp:Response/saml:Assertion/ds:Signature"):
        assert OneLogin_Saml2_Utils.validate_sign(xml, cert=cert, xpath=path)
        assert not OneLogin_Saml2_Utils.validate_sign(rebound, cert=cert, xpath=path)


def test_a_canonical_form_without_the_xs_binding_is_refused_not_signed(signer, monkeypatch):
    """Should the canonicalization ever leave the binding out, no answer goes out signed over
    a form that does not cover it."""
    monkeypatch.setattr(response, "_SIGNED_PREFIXES", ())
    with pytest.raises(RuntimeError, match="xs prefix"):
        build(signer)
