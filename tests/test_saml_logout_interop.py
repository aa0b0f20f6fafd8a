"""Single Logout as SPs do it on their defaults: an encrypted NameID (python3-saml, and a
Shibboleth-style message made with xmlsec from the SP's keys), the SessionIndex of the IdP's own
LogoutRequests, and asynchronous logout (no response expected)."""

from __future__ import annotations

import base64
import secrets
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import xmlsec
from lxml import etree, html
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from saml_sp import SECURITY, path_and_query, query_of, sso
from saml_support import make_keypair, sign_xml

from idp.saml import encrypted_id

pytest_plugins = ("saml_fixtures",)

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
XENC = "http://www.w3.org/2001/04/xmlenc#"
DS = "http://www.w3.org/2000/09/xmldsig#"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
SESSION_KEYS = {xmlsec.Transform.AES128_GCM: (xmlsec.KeyData.AES, 128),
                xmlsec.Transform.AES128: (xmlsec.KeyData.AES, 128),
                xmlsec.Transform.DES3: (xmlsec.KeyData.DES, 192)}


@pytest.fixture
def signed_in(make_sp, make_account, login, client, csrf):
    """A person logged in at one SP: (sp, NameID, SessionIndex)."""
    username, password = make_account()
    login(client, username, password)
    sp = make_sp("enc.example.org")
    auth = sso(client, sp, csrf)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    return sp, auth.get_nameid(), auth.get_session_index()


def still_signed_in(client, sp) -> bool:
    """Whether the IdP session still answers the SP without asking for a password."""
    return client.get(path_and_query(sp.login_redirect())).status_code == 200


def decoded(url: str, name: str) -> str:
    return zlib.decompress(base64.b64decode(query_of(url)[name]), -15).decode()


# -- EncryptedID ---------------------------------------------------------------------------


def test_python3_saml_encrypted_name_id_ends_the_session(signed_in, client):
    sp, name_id, session_index = signed_in
    sp.security = {**SECURITY, "nameIdEncrypted": True}
    url = sp.logout_redirect(name_id, session_index, "bye")
    assert "<saml:EncryptedID>" in decoded(url, "SAMLRequest")
    done = client.get(path_and_query(url))
    if done.status_code == 302:
        done = client.get(path_and_query(done.headers["Location"]))
    link = html.fromstring(done.get_data()).xpath("//a[@class='button']/@href")[0]
    errors, _ = sp.handle_logout_message(link)
    assert errors == [] and f'Value="{SUCCESS}"' in decoded(link, "SAMLResponse")
    assert not still_signed_in(client, sp)


def encrypt_name_id(name_id: str, sp_entity_id: str, certificate: Path, *, peer_key=False,
                    cipher=xmlsec.Transform.AES128_GCM, transport=xmlsec.Transform.RSA_OAEP):
    """saml:EncryptedID as Shibboleth SP writes it (AES-GCM, RSA-OAEP), with libxmlsec1: the
    session key inside EncryptedData's KeyInfo, or beside it (``peer_key``)."""
    wrapper = etree.Element(f"{{{SAML}}}EncryptedID", nsmap={"saml": SAML})
    plain = etree.SubElement(wrapper, f"{{{SAML}}}NameID", Format=PERSISTENT,
                             SPNameQualifier=sp_entity_id)
    plain.text = name_id
    template = xmlsec.template.encrypted_data_create(plain, cipher,
                                                     type=xmlsec.EncryptionType.ELEMENT, ns="xenc")
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, transport)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_file(str(certificate), xmlsec.KeyFormat.CERT_PEM))
    context = xmlsec.EncryptionContext(manager)
    kind, bits = SESSION_KEYS.get(cipher, (xmlsec.KeyData.AES, 256))
    context.key = xmlsec.Key.generate(kind, bits, xmlsec.KeyDataType.SESSION)
    context.encrypt_xml(template, plain)
    if peer_key:  # OpenSAML's "peer" placement: EncryptedKey beside EncryptedData
        moved = next(wrapper.iter(f"{{{XENC}}}EncryptedKey"))  # (find misses xmlsec's nodes)
        moved.set("Id", "_k1")
        info = moved.getparent()
        info.remove(moved)
        etree.SubElement(info, f"{{{DS}}}RetrievalMethod", URI="#_k1",
                         Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey")
        wrapper.append(moved)
    return etree.tostring(wrapper, encoding="unicode")


def logout_request(sp, subject: str, session_index: str | None = None, *,
                   asynchronous=False) -> str:
    """A LogoutRequest for the HTTP-POST binding, signed with the SP's key."""
    instant = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    extensions = ('<samlp:Extensions><aslo:Asynchronous '
                  'xmlns:aslo="urn:oasis:names:tc:SAML:2.0:protocol:ext:async-slo"/>'
                  "</samlp:Extensions>") if asynchronous else ""
    index = f"<samlp:SessionIndex>{session_index}</samlp:SessionIndex>" if session_index else ""
    xml = (f'<samlp:LogoutRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_{secrets.token_hex(16)}" '
           f'Version="2.0" IssueInstant="{instant}" '
           'Destination="http://localhost/saml/slo/post">'
           f"<saml:Issuer>{sp.entity_id}</saml:Issuer>{extensions}{subject}{index}"
           "</samlp:LogoutRequest>")
    return sign_xml(xml, sp.key, sp.cert)


def post_logout(client, xml: str):
    return client.post("/saml/slo/post",
                       data={"SAMLRequest": base64.b64encode(xml.encode()).decode()})


def finish_page(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client.get(path_and_query(response.headers["Location"]))


@pytest.mark.parametrize("peer_key", [False, True])
@pytest.mark.parametrize("cipher", [xmlsec.Transform.AES128_GCM, xmlsec.Transform.AES256])
def test_shibboleth_style_encrypted_id_gets_success(signed_in, client, keys_dir, peer_key,
                                                    cipher):
    sp, name_id, session_index = signed_in
    subject = encrypt_name_id(name_id, sp.entity_id, Path(keys_dir) / "saml-encryption.crt",
                              peer_key=peer_key, cipher=cipher)
    page = finish_page(client, post_logout(client, logout_request(sp, subject, session_index)))
    link = html.fromstring(page.get_data()).xpath("//a[@class='button']/@href")[0]
    sp.last_request_id = None  # python3-saml checks the answer; this request was not its own
    errors, _ = sp.handle_logout_message(link)  # the SP's SLO is HTTP-Redirect only
    assert errors == [] and f'Value="{SUCCESS}"' in decoded(link, "SAMLResponse")
    assert not still_signed_in(client, sp)


@pytest.mark.parametrize("made", ["for another key", "with RSA PKCS#1 v1.5", "with 3DES"])
def test_undecryptable_encrypted_id_is_refused_and_the_session_kept(signed_in, client, keys_dir,
                                                                    tmp_path, made):
    sp, name_id, _ = signed_in
    certificate = Path(keys_dir) / "saml-encryption.crt"
    options = {}
    if made == "for another key":
        certificate = make_keypair(tmp_path, "stranger")[1]
    elif made == "with RSA PKCS#1 v1.5":
        options["transport"] = xmlsec.Transform.RSA_PKCS1
    else:
        options["cipher"] = xmlsec.Transform.DES3
    subject = encrypt_name_id(name_id, sp.entity_id, certificate, **options)
    refused = post_logout(client, logout_request(sp, subject))
    assert refused.status_code == 400 and "SAML-016" in refused.get_data(as_text=True)
    assert still_signed_in(client, sp)


def test_every_decryption_key_is_tried(keys_dir, tmp_path):
    old_key, old_cert = make_keypair(tmp_path, "previous")
    new_key, _ = make_keypair(tmp_path, "next")
    wrapped = etree.fromstring(encrypt_name_id("ABC", "https://sp", old_cert))
    keys = [new_key.read_bytes(), old_key.read_bytes()]
    assert encrypted_id.decrypt(wrapped, keys).text == "ABC"
    with pytest.raises(encrypted_id.Undecryptable):
        encrypted_id.decrypt(wrapped, keys[:1])


# -- SessionIndex --------------------------------------------------------------------------


def test_idp_logout_requests_carry_the_session_index_of_each_sp(make_sp, make_account, login,
                                                                client, csrf):
    username, password = make_account()
    login(client, username, password)
    sps = [make_sp(host) for host in ("a.example.org", "b.example.org")]
    indexes = [sso(client, sp, csrf).get_session_index() for sp in sps]
    again = sso(client, sps[0], csrf).get_session_index()
    assert again == indexes[0] and indexes[0] != indexes[1]  # per SP, stable in one session
    confirm = client.get("/saml/logout")
    page = client.post("/saml/logout", data={"csrf_token": csrf(confirm)})
    frames = [f.get("src") for f in html.fromstring(page.get_data()).iter("iframe")]
    for frame, sp, index in zip(frames, sps, indexes, strict=True):
        url = client.get(frame).headers["Location"]
        request = decoded(url, "SAMLRequest")
        assert OneLogin_Saml2_Logout_Request.get_session_indexes(request) == [index]
        errors, _answer = sp.handle_logout_message(url)
        assert errors == []


# -- aslo:Asynchronous ---------------------------------------------------------------------


def test_asynchronous_logout_ends_the_session_and_sends_no_response(signed_in, client):
    sp, name_id, session_index = signed_in
    subject = f'<saml:NameID Format="{PERSISTENT}">{name_id}</saml:NameID>'
    page = finish_page(client, post_logout(client, logout_request(
        sp, subject, session_index, asynchronous=True)))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "SAMLResponse" not in body and sp.sls not in body
    assert not still_signed_in(client, sp)


def test_asynchronous_logout_for_another_session_is_not_answered(signed_in, client):
    sp, _name_id, _ = signed_in
    subject = f'<saml:NameID Format="{PERSISTENT}">someone-else</saml:NameID>'
    response = post_logout(client, logout_request(sp, subject, asynchronous=True))
    assert response.status_code == 302 and "SAMLResponse" not in response.headers["Location"]
    assert not response.headers["Location"].startswith(sp.sls)
    assert still_signed_in(client, sp)
