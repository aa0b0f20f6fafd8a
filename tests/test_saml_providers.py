"""Service providers: registration by file and CLI without restart, release policies."""

import pytest
from saml_sp import path_and_query, sso
from saml_support import sp_metadata

from idp.saml import vocabulary

pytest_plugins = ("saml_fixtures",)

SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"
PAIRWISE = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"


def entity_attributes(**values) -> str:
    attributes = "".join(
        f'<saml:Attribute Name="{name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
        + "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in vals)
        + "</saml:Attribute>" for name, vals in values.items())
    return ('<md:Extensions><mdattr:EntityAttributes '
            'xmlns:mdattr="urn:oasis:names:tc:SAML:metadata:attribute" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
            f"{attributes}</mdattr:EntityAttributes></md:Extensions>")


@pytest.fixture
def person(make_account, login, client):
    username, password = make_account()
    login(client, username, password)
    return username


def test_cli_registration_takes_effect_without_restart(saml_app, tmp_path, client):
    runner = saml_app.test_cli_runner()
    path = tmp_path / "new-sp.xml"
    path.write_text(sp_metadata("https://new.example.org/sp", "https://new.example.org/acs"))
    result = runner.invoke(args=["sp", "add", str(path)])
    assert result.exit_code == 0, result.output
    assert "registered https://new.example.org/sp" in result.output
    listing = runner.invoke(args=["sp", "list"]).output
    assert "https://new.example.org/sp\tdatabase" in listing
    result = runner.invoke(args=["sp", "policy", "https://new.example.org/sp",
                                 "--attributes", "eppn,pairwise_id", "--allow-unsolicited"])
    assert result.exit_code == 0, result.output
    assert "eppn,pairwise_id" in runner.invoke(args=["sp", "list"]).output
    assert runner.invoke(args=["sp", "remove", "https://new.example.org/sp",
                                "--reason", "retired"]).exit_code == 0
    refused = client.get("/saml/sso/init", query_string={"sp": "https://new.example.org/sp"})
    assert "SAML-001" in refused.get_data(as_text=True)


def test_cli_refuses_bad_metadata_and_unknown_attributes(saml_app, tmp_path):
    runner = saml_app.test_cli_runner()
    bad = tmp_path / "bad.xml"
    bad.write_text('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    assert runner.invoke(args=["sp", "add", str(bad)]).exit_code != 0
    expired = tmp_path / "expired.xml"
    expired.write_text(sp_metadata("https://old.example.org/sp", "https://old.example.org/acs")
                       .replace('entityID=', 'validUntil="2001-01-01T00:00:00Z" entityID='))
    result = runner.invoke(args=["sp", "add", str(expired)])
    assert result.exit_code != 0 and "expired" in result.output
    good = tmp_path / "good.xml"
    good.write_text(sp_metadata("https://good.example.org/sp", "https://good.example.org/acs"))
    runner.invoke(args=["sp", "add", str(good)])
    result = runner.invoke(args=["sp", "policy", "https://good.example.org/sp",
                                 "--attributes", "eppn,password"])
    assert result.exit_code != 0 and "password" in result.output


def test_metadata_file_changes_take_effect_without_restart(make_sp, saml_app, tmp_path, client,
                                                           csrf, person):
    sp = make_sp("file.example.org")
    assert sso(client, sp, csrf).is_authenticated()
    (tmp_path / "metadata" / "file.example.org.xml").unlink()
    response = client.get(path_and_query(sp.login_redirect()))
    assert "SAML-001" in response.get_data(as_text=True)


def test_research_and_scholarship_defaults_without_a_policy(make_sp, client, csrf, person):
    sp = make_sp("rs.example.org", release=None, metadata_extra=entity_attributes(**{
        vocabulary.ENTITY_CATEGORY: [vocabulary.RESEARCH_AND_SCHOLARSHIP]}))
    released = sso(client, sp, csrf).get_attributes()
    assert {SUBJECT_ID, EPPN, MAIL} <= set(released)
    assert PAIRWISE not in released


def test_subject_id_requirement_picks_the_pairwise_identifier(make_sp, client, csrf, person):
    sp = make_sp("pw.example.org", release=None, metadata_extra=entity_attributes(**{
        vocabulary.ENTITY_CATEGORY: [vocabulary.RESEARCH_AND_SCHOLARSHIP],
        vocabulary.SUBJECT_ID_REQ: ["pairwise-id"]}))
    released = sso(client, sp, csrf).get_attributes()
    assert PAIRWISE in released and SUBJECT_ID not in released


def test_an_sp_without_policy_or_category_gets_no_attributes(make_sp, client, csrf, person):
    sp = make_sp("bare.example.org", release=None)
    auth = sso(client, sp, csrf)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_attributes() == {}


@pytest.mark.parametrize("names, requirement, expected", [
    ({"subject_id", "eppn"}, None, {"subject_id", "eppn"}),
    ({"subject_id", "eppn"}, "pairwise-id", {"pairwise_id", "eppn"}),
    ({"pairwise_id"}, "subject-id", set()),
    ({"subject_id", "pairwise_id"}, "any", {"pairwise_id"}),
    ({"subject_id"}, "any", {"pairwise_id"}),
    ({"subject_id", "mail"}, "none", {"mail"}),
])
def test_choose_identifiers(names, requirement, expected):
    assert vocabulary.choose_identifiers(names, requirement) == expected


def test_category_defaults():
    assert vocabulary.category_defaults([vocabulary.ANONYMOUS]) == {
        "schac_home_organization", "scoped_affiliation", "entitlement"}
    assert "pairwise_id" in vocabulary.category_defaults([vocabulary.PSEUDONYMOUS])
    assert vocabulary.category_defaults(["http://example.org/unknown"]) == set()


def test_every_vocabulary_name_maps_to_a_uri_attribute():
    converter = vocabulary.converter()
    for friendly, name in vocabulary.SAML_ATTRIBUTES.values():
        assert name.startswith("urn:")
        assert converter._to[friendly.lower()] == name
