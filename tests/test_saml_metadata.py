"""The IdP's published metadata: what an SP or a federation reads about us."""

from pathlib import Path

import pytest
from lxml import etree
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from idp import create_app
from idp.config import ConfigurationError

NS = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#",
      "mdui": "urn:oasis:names:tc:SAML:metadata:ui", "shibmd": "urn:mace:shibboleth:metadata:1.0",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion", "remd": "http://refeds.org/metadata"}


def signing_cert(app) -> str:
    return (Path(app.config["KEYS_DIR"]) / "saml-signing.crt").read_text()


def fetch(client):
    response = client.get("/saml/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    return response.get_data()


def test_metadata_is_signed_with_the_signing_key(app, client):
    document = fetch(client)
    assert OneLogin_Saml2_Utils.validate_metadata_sign(document, signing_cert(app),
                                                       raise_exceptions=True)
    root = etree.fromstring(document)
    assert root.xpath("ds:Signature/ds:SignedInfo/ds:SignatureMethod/@Algorithm", namespaces=NS) \
        == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert root.get("validUntil") > "2000"


def test_tampered_metadata_fails_verification(app, client):
    document = fetch(client).replace(b"helpdesk@", b"attacker@")
    assert not OneLogin_Saml2_Utils.validate_metadata_sign(document, signing_cert(app))


def test_an_sp_library_reads_endpoints_and_keys(client):
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(fetch(client))["idp"]
    assert parsed["entityId"] == "http://localhost/saml/metadata"
    assert parsed["singleSignOnService"]["url"] == "http://localhost/saml/sso/redirect"
    assert parsed["singleLogoutService"]["url"] == "http://localhost/saml/slo/redirect"
    assert parsed["x509certMulti"]["signing"] and parsed["x509certMulti"]["encryption"]


def test_scope_mdui_contacts_and_categories(app, client):
    root = etree.fromstring(fetch(client))
    idp = root.find("md:IDPSSODescriptor", NS)
    scopes = idp.xpath("md:Extensions/shibmd:Scope/text()", namespaces=NS)
    assert app.config["SCOPE"] in scopes and set(app.config["INSTITUTION_DOMAINS"]) <= set(scopes)
    names = idp.xpath("md:Extensions/mdui:UIInfo/mdui:DisplayName", namespaces=NS)
    assert {n.get("{http://www.w3.org/XML/1998/namespace}lang") for n in names} == {"el", "en"}
    for element in ("Description", "InformationURL", "PrivacyStatementURL", "Logo"):
        assert idp.xpath(f"md:Extensions/mdui:UIInfo/mdui:{element}", namespaces=NS)
    types = root.xpath("md:ContactPerson/@contactType", namespaces=NS)
    assert {"technical", "support", "other"} <= set(types)
    security = root.xpath("md:ContactPerson[@remd:contactType="
                          "'http://refeds.org/metadata/contactType/security']", namespaces=NS)
    assert security
    attributes = root.xpath("md:Extensions//saml:Attribute/saml:AttributeValue/text()",
                            namespaces=NS)
    assert "https://refeds.org/sirtfi" in attributes
    assert "http://refeds.org/category/research-and-scholarship" in attributes
    bindings = idp.xpath("md:SingleSignOnService/@Binding", namespaces=NS)
    assert len(bindings) == 2


def test_an_unknown_encryption_algorithm_stops_start_up(base_settings):
    with pytest.raises(ConfigurationError, match="SAML_DATA_ENCRYPTION"):
        create_app({**base_settings,
                    "SAML_DATA_ENCRYPTION": "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"})


def test_valid_until_follows_the_clock(app, client, clock):
    from datetime import timedelta

    from idp import clock as idp_clock

    clock.advance(3 * 86400)
    with app.app_context():
        expected = idp_clock.now() + timedelta(days=app.config["SAML_METADATA_VALID_DAYS"])
    valid_until = etree.fromstring(fetch(client)).get("validUntil")
    assert valid_until[:10] == expected.strftime("%Y-%m-%d")


def test_metadata_is_valid_against_the_saml_metadata_schema(client):
    from importlib.resources import files

    import saml2.data.schemas
    from saml2.xml.schema import _create_xml_schema_validator, validate

    schema = str(files(saml2.data.schemas).joinpath("saml-schema-metadata-2.0.xsd"))
    validate(fetch(client).decode(), _create_xml_schema_validator(schema))
