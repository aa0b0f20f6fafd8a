"""Every refusal of point 7: an error page with its code, nothing sent to the SP."""

import base64
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import pytest
import xmlsec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from saml_support import authn_request, make_keypair, sign_xml, sp_metadata

SP = "https://raw.example.org/sp"
ACS = "https://raw.example.org/acs"
SSO_POST = "http://localhost/saml/sso/post"
SSO_REDIRECT = "http://localhost/saml/sso/redirect"
SLO_POST = "http://localhost/saml/slo/post"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"


@pytest.fixture
def keys(tmp_path):
    return {name: make_keypair(tmp_path, name) for name in ("sp", "attacker")}


@pytest.fixture
def raw_sp(app, tmp_path, keys):
    """An SP that signs its requests (AuthnRequestsSigned="true") known from a metadata file."""
    folder = tmp_path / "metadata"
    folder.mkdir()
    (folder / "raw.xml").write_text(sp_metadata(SP, ACS, keys["sp"][1], authn_requests_signed=True,
                                                slo="https://raw.example.org/slo"))
    app.config.update(METADATA_DIR=str(folder), SAML_METADATA_CHECK_SECONDS=0)
    return app


def post(client, xml, relay_state=None, url="/saml/sso/post"):
    data = {"SAMLRequest": base64.b64encode(xml.encode() if isinstance(xml, str) else xml)}
    if relay_state is not None:
        data["RelayState"] = relay_state
    return client.post(url, data=data)


def redirect(client, xml, key_path=None, sigalg=RSA_SHA256, relay_state=None):
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(xml.encode()) + deflater.flush()
    query = f"SAMLRequest={quote_plus(base64.b64encode(raw).decode())}"
    if relay_state is not None:
        query += f"&RelayState={quote_plus(relay_state)}"
    if key_path:
        query += f"&SigAlg={quote_plus(sigalg)}"
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        digest = hashes.SHA1() if sigalg == RSA_SHA1 else hashes.SHA256()  # noqa: S303
        signature = key.sign(query.encode(), padding.PKCS1v15(), digest)
        query += f"&Signature={quote_plus(base64.b64encode(signature).decode())}"
    return client.get(f"/saml/sso/redirect?{query}")


def refused(response, code, status=None):
    body = response.get_data(as_text=True)
    assert code in body, body[:300]
    assert "SAMLResponse" not in body
    if status:
        assert response.status_code == status


def request_xml(request_id="_r1", destination=SSO_POST, **kwargs):
    return authn_request(SP, destination, request_id=request_id, **kwargs)


def accepted(response):
    assert response.status_code == 302 and "/login" in response.headers["Location"], \
        response.get_data(as_text=True)[:300]


def test_signed_post_and_redirect_requests_are_accepted(raw_sp, client, keys):
    accepted(post(client, sign_xml(request_xml(), keys["sp"][0])))
    accepted(redirect(client, request_xml("_r2", SSO_REDIRECT), keys["sp"][0]))


def test_acs_by_index_from_metadata_is_accepted(raw_sp, client, keys):
    by_index = request_xml(attributes=' AssertionConsumerServiceIndex="0"')
    accepted(post(client, sign_xml(by_index, keys["sp"][0])))


def test_unsigned_request_refused_when_the_sp_signs(raw_sp, client):
    refused(post(client, request_xml()), "SAML-004", 403)
    refused(redirect(client, request_xml("_r2", SSO_REDIRECT)), "SAML-004", 403)


def test_signature_by_another_key_is_refused_even_with_its_certificate_inline(raw_sp, client,
                                                                               keys):
    forged = sign_xml(request_xml(), *keys["attacker"])
    refused(post(client, forged), "SAML-004", 403)
    refused(redirect(client, request_xml("_r2", SSO_REDIRECT), keys["attacker"][0]), "SAML-004")


def test_tampered_signed_request_is_refused(raw_sp, client, keys):
    signed = sign_xml(request_xml(), keys["sp"][0])
    refused(post(client, signed.replace('Version="2.0"', 'Version="2.0" ForceAuthn="false"')),
            "SAML-004")


def test_sha1_is_refused_in_both_bindings(raw_sp, client, keys):
    refused(post(client, sign_xml(request_xml(), keys["sp"][0], method=xmlsec.Transform.RSA_SHA1)),
            "SAML-005", 403)
    refused(post(client, sign_xml(request_xml("_r2"), keys["sp"][0],
                                  digest=xmlsec.Transform.SHA1)), "SAML-005")
    refused(redirect(client, request_xml("_r3", SSO_REDIRECT), keys["sp"][0], sigalg=RSA_SHA1),
            "SAML-005")


def test_only_enveloped_and_exclusive_c14n_transforms(raw_sp, client, keys):
    inclusive = sign_xml(request_xml(), keys["sp"][0],
                         transforms=(xmlsec.Transform.ENVELOPED, xmlsec.Transform.C14N))
    refused(post(client, inclusive), "SAML-005")
    signed = sign_xml(request_xml("_r2"), keys["sp"][0])
    xslt = signed.replace('<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
                          '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>')
    refused(post(client, xslt), "SAML-005")


def test_wrapping_signed_request_hidden_in_extensions(raw_sp, client, keys):
    genuine = sign_xml(request_xml(), keys["sp"][0])
    forged = request_xml("_evil", extra=f"<samlp:Extensions>{genuine}</samlp:Extensions>")
    refused(post(client, forged), "SAML-004")


def test_wrapping_forged_root_with_the_signed_id(raw_sp, client, keys):
    genuine = sign_xml(request_xml(), keys["sp"][0])
    signature = genuine[genuine.index("<ds:Signature"):genuine.index("</ds:Signature>") + 15]
    forged = request_xml(acs="https://evil.example/acs").replace(
        "</saml:Issuer>", f"</saml:Issuer>{signature}"
        f"<samlp:Extensions>{genuine}</samlp:Extensions>")
    refused(post(client, forged), "SAML-004")


def test_wrapping_signature_over_another_element(raw_sp, client, keys):
    request = request_xml(extra='<samlp:Extensions><x xmlns="urn:x" ID="_part"/></samlp:Extensions>')
    refused(post(client, sign_xml(request, keys["sp"][0], element_id="_part")), "SAML-004")


def test_logout_request_wrapping_is_refused(raw_sp, client, keys):
    def logout(request_id):
        instant = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
                f'ID="{request_id}" Version="2.0" IssueInstant="{instant}" '
                f'Destination="{SLO_POST}"><saml:Issuer>{SP}</saml:Issuer>'
                "<saml:NameID>someone</saml:NameID></samlp:LogoutRequest>")

    genuine = sign_xml(logout("_l1"), keys["sp"][0])
    hidden = logout("_l2").replace("</saml:Issuer>",
                                   f"</saml:Issuer><samlp:Extensions>{genuine}</samlp:Extensions>")
    refused(post(client, hidden, url="/saml/slo/post"), "SAML-004")
    moved = genuine.replace('ID="_l1"', 'ID="_l3"', 1)
    refused(post(client, moved, url="/saml/slo/post"), "SAML-004")
    refused(post(client, sign_xml(logout("_l4"), keys["sp"][0], method=xmlsec.Transform.RSA_SHA1),
                 url="/saml/slo/post"), "SAML-005")


@pytest.mark.parametrize("document", [
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;'
    "</samlp:AuthnRequest>",
    '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&d;&d;&d;'
    "</samlp:AuthnRequest>",
])
def test_xxe_and_entity_expansion_are_refused(raw_sp, client, document):
    refused(post(client, document), "SAML-003", 400)


def test_deflate_bomb_is_refused(raw_sp, client):
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = deflater.compress(b"<a>" + b" " * 20_000_000 + b"</a>") + deflater.flush()
    response = client.get("/saml/sso/redirect", query_string={
        "SAMLRequest": base64.b64encode(bomb).decode()})
    refused(response, "SAML-003")


def test_replayed_request_id_is_refused(raw_sp, client, keys):
    signed = sign_xml(request_xml("_once"), keys["sp"][0])
    accepted(post(client, signed))
    refused(post(client, signed), "SAML-007", 400)


@pytest.mark.parametrize("offset", [timedelta(minutes=-10), timedelta(minutes=5)])
def test_stale_or_future_issue_instant_is_refused(raw_sp, client, keys, offset):
    instant = (datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
    refused(post(client, sign_xml(request_xml(instant=instant), keys["sp"][0])), "SAML-006", 400)


def test_relay_state_over_80_bytes_is_refused(raw_sp, client, keys):
    signed = sign_xml(request_xml(), keys["sp"][0])
    refused(post(client, signed, relay_state="x" * 81), "SAML-009", 400)
    accepted(post(client, sign_xml(request_xml("_r2"), keys["sp"][0]), relay_state="x" * 80))


def test_destination_must_be_this_endpoint(raw_sp, client, keys):
    other = request_xml(destination="https://other-idp.example/sso")
    refused(post(client, sign_xml(other, keys["sp"][0])), "SAML-014", 400)


def test_acs_not_in_metadata_gets_no_response(raw_sp, client, keys):
    by_url = request_xml(acs="https://evil.example/acs")
    refused(post(client, sign_xml(by_url, keys["sp"][0])), "SAML-008", 400)
    by_index = request_xml("_r2", attributes=' AssertionConsumerServiceIndex="7"')
    refused(post(client, sign_xml(by_index, keys["sp"][0])), "SAML-008", 400)


def test_unknown_sp_gets_an_error_page(raw_sp, client, keys):
    stranger = authn_request("https://stranger.example/sp", SSO_POST)
    refused(post(client, sign_xml(stranger, keys["attacker"][0])), "SAML-001", 400)


def test_missing_message_and_garbage(raw_sp, client):
    refused(client.get("/saml/sso/redirect"), "SAML-013", 400)
    refused(client.post("/saml/sso/post", data={"SAMLRequest": "%%%"}), "SAML-00")
    refused(post(client, "<not-saml/>"), "SAML-002", 400)


def test_error_pages_speak_greek_by_default_and_english_on_request(raw_sp, client):
    greek = client.get("/saml/sso/redirect").get_data(as_text=True)
    assert "Κανένα μήνυμα SAML" in greek and "SAML-013" in greek
    client.get("/lang/en")
    english = client.get("/saml/sso/redirect").get_data(as_text=True)
    assert "No SAML message" in english and "SAML-013" in english


def test_refusal_page_says_what_happened_and_what_to_do_in_both_languages(raw_sp, client):
    greek = post(client, "<not-saml/>").get_data(as_text=True)
    assert "δεν ήταν δυνατό να διαβαστεί" in greek
    assert "Επιστρέψτε στην υπηρεσία που χρησιμοποιούσατε" in greek and "SAML-002" in greek
    client.get("/lang/en")
    english = post(client, "<not-saml/>").get_data(as_text=True)
    assert "could not be read" in english
    assert "Go back to the service you were using" in english and "SAML-002" in english


@pytest.mark.parametrize(("attributes", "code"), [
    (' ForceAuthn="maybe"', "SAML-002"), (' AssertionConsumerServiceIndex="abc"', "SAML-002"),
    (' IsPassive="2"', "SAML-002"),
    (' ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"', "SAML-011"),
])
def test_invalid_request_attributes_get_a_coded_page(raw_sp, client, keys, attributes, code):
    signed = sign_xml(request_xml(attributes=attributes), keys["sp"][0])
    refused(post(client, signed), code, 400)


def test_wrong_version_is_unreadable(raw_sp, client, keys):
    signed = sign_xml(request_xml().replace('Version="2.0"', 'Version="3.0"'), keys["sp"][0])
    refused(post(client, signed), "SAML-002", 400)
