"""MDQ sources: one SP's signed metadata asked for when it is first met (/entities/{sha1}),
verified against the pinned certificate and cached by its cacheDuration."""

import pytest
from federation_support import Federation, MetadataServer, mdq_path, with_extensions
from saml_sp import IndependentSP, set_policy, sso
from saml_support import sp_metadata

from idp.saml import vocabulary

pytest_plugins = ("saml_fixtures",)


@pytest.fixture
def federation(tmp_path):
    folder = tmp_path / "federation"
    folder.mkdir()
    return Federation(folder)


@pytest.fixture
def mdq(saml_app, federation):
    server = MetadataServer()
    result = saml_app.test_cli_runner().invoke(args=[
        "metadata", "source", "add", "mdq", "--mdq", server.url, "--cert", str(federation.cert)])
    assert result.exit_code == 0, result.output
    assert "MDQ, 0 SPs cached" in result.output
    yield server
    server.stop()


@pytest.fixture
def person(make_account, login, client):
    username, password = make_account()
    login(client, username, password)
    return username


@pytest.fixture
def member(saml_app, client, tmp_path, federation, mdq):
    """A python3-saml SP that the MDQ service knows (R&S, cached for an hour)."""
    sp = IndependentSP("mdq-member.example.org",
                       client.get("/saml/metadata").get_data(as_text=True), tmp_path)
    entity = with_extensions(sp.metadata(), categories=[vocabulary.RESEARCH_AND_SCHOLARSHIP])
    mdq.documents[mdq_path(sp.entity_id)] = federation.entity(entity, cache_duration="PT1H")
    return sp


def unsolicited(client, entity_id: str):
    return client.get("/saml/sso/init", query_string={"sp": entity_id})


def test_an_sp_is_fetched_when_first_met_and_then_cached(saml_app, client, csrf, person, mdq,
                                                         member):
    assert sso(client, member, csrf).is_authenticated()
    assert sso(client, member, csrf).is_authenticated()
    assert mdq.requests.count(mdq_path(member.entity_id)) == 1
    status = saml_app.test_cli_runner().invoke(args=["metadata", "status"]).output
    assert "mdq\tmdq\t1 SPs\tin use" in status


def test_other_instances_share_the_cached_answer(saml_app, client, csrf, person, mdq, member):
    assert sso(client, member, csrf).is_authenticated()
    saml_app.extensions.pop("kleidi.saml.mdq")  # what another process would start with
    mdq.stop()
    assert sso(client, member, csrf).is_authenticated()


def test_after_cache_duration_the_sp_is_fetched_again_and_a_kept_copy_bridges_an_outage(
        saml_app, client, person, mdq, member, clock):
    set_policy(saml_app, member.entity_id, allow_unsolicited=True)
    assert unsolicited(client, member.entity_id).status_code in (200, 302)
    clock.advance(2 * 3600)  # past cacheDuration (1 h), inside validUntil (4 days)
    assert unsolicited(client, member.entity_id).status_code in (200, 302)
    assert mdq.requests.count(mdq_path(member.entity_id)) == 2
    clock.advance(2 * 3600)
    mdq.stop()
    assert unsolicited(client, member.entity_id).status_code in (200, 302)
    clock.advance(5 * 24 * 3600)  # now past its validUntil as well
    assert "SAML-017" in unsolicited(client, member.entity_id).get_data(as_text=True)


def test_an_unknown_sp_is_remembered_for_a_while(saml_app, client, mdq):
    for _ in range(3):
        assert "SAML-001" in unsolicited(client, "https://nobody.example.org/sp") \
            .get_data(as_text=True)
    assert mdq.requests.count(mdq_path("https://nobody.example.org/sp")) == 1


def test_a_tampered_answer_is_refused(saml_app, client, federation, mdq):
    entity_id = "https://tampered.example.org/sp"
    signed = federation.entity(sp_metadata(entity_id, "https://tampered.example.org/acs"))
    mdq.documents[mdq_path(entity_id)] = signed.replace(b"tampered.example.org/acs",
                                                        b"attacker.example.net/acs")
    page = unsolicited(client, entity_id)
    assert page.status_code == 503 and "SAML-017" in page.get_data(as_text=True)
    state = saml_app.test_cli_runner().invoke(args=["metadata", "status", "--json"]).output
    assert "signature" in state


def test_an_answer_about_another_entity_is_not_used(saml_app, client, federation, mdq):
    asked, other = "https://asked.example.org/sp", "https://other.example.org/sp"
    mdq.documents[mdq_path(asked)] = federation.entity(
        sp_metadata(other, "https://other.example.org/acs"))
    assert "SAML-001" in unsolicited(client, asked).get_data(as_text=True)


@pytest.mark.settings(SAML_MDQ_FETCHES_PER_MINUTE=2)
def test_forged_issuers_cannot_flood_the_federation(saml_app, client, mdq):
    for number in range(2):
        assert "SAML-001" in unsolicited(client, f"https://forged{number}.example.net/sp") \
            .get_data(as_text=True)
    assert "SAML-017" in unsolicited(client, "https://forged9.example.net/sp") \
        .get_data(as_text=True)
    assert len(mdq.requests) == 2
