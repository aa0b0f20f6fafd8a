"""Federation aggregates: a real signed aggregate served over loopback HTTP, verified against
the pinned certificate before anything in it is used; a bad refresh keeps the last good copy."""

import datetime
import json

import pytest
from federation_support import Federation, MetadataServer, with_extensions
from lxml import etree
from saml_sp import IndependentSP, path_and_query, sso
from saml_support import sp_metadata

from idp.saml import refresh, vocabulary

pytest_plugins = ("saml_fixtures",)

RS = vocabulary.RESEARCH_AND_SCHOLARSHIP
FEDERATION = "https://federation.example.org"


@pytest.fixture
def federation(tmp_path):
    folder = tmp_path / "federation"
    folder.mkdir()
    return Federation(folder)


@pytest.fixture
def published():
    server = MetadataServer()
    yield server
    server.stop()


@pytest.fixture
def person(make_account, login, client):
    username, password = make_account()
    login(client, username, password)
    return username


@pytest.fixture
def member(saml_app, client, tmp_path):
    """An independent SP (python3-saml) registered with the federation as R&S."""
    sp = IndependentSP("member.example.org", client.get("/saml/metadata").get_data(as_text=True),
                       tmp_path)
    sp.registered = with_extensions(sp.metadata(), FEDERATION, [RS])
    return sp


def add_source(app, federation, url, *extra):
    return app.test_cli_runner().invoke(args=[
        "metadata", "source", "add", "fed", "--url", url, "--cert", str(federation.cert),
        *extra])


def status(app) -> dict:
    result = app.test_cli_runner().invoke(args=["metadata", "status", "--json"])
    assert result.exit_code == 0, result.output
    return {item["name"]: item for item in json.loads(result.output)}


def refresh_now(app):
    return app.test_cli_runner().invoke(args=["metadata", "refresh", "fed"])


def other_sp(name: str, **extensions) -> str:
    return with_extensions(sp_metadata(f"https://{name}/sp", f"https://{name}/acs"), **extensions)


def test_a_good_aggregate_is_used_for_login(saml_app, client, csrf, person, federation,
                                            published, member):
    published.documents["/fed.xml"] = federation.aggregate(
        [member.registered, other_sp("two.example.org", authority=FEDERATION)])
    result = add_source(saml_app, federation, published.url + "/fed.xml")
    assert result.exit_code == 0, result.output
    assert "fed: 2 SPs" in result.output
    auth = sso(client, member, csrf)
    assert auth.is_authenticated(), auth.get_errors()
    assert "urn:oasis:names:tc:SAML:attribute:subject-id" in auth.get_attributes()  # R&S
    state = status(saml_app)["fed"]
    assert state["in_use"] and state["entities"] == 2 and state["last_error"] is None


def test_a_tampered_aggregate_is_refused_and_the_last_good_copy_kept(
        saml_app, client, csrf, person, federation, published, member):
    published.documents["/fed.xml"] = federation.aggregate([member.registered])
    assert add_source(saml_app, federation, published.url + "/fed.xml").exit_code == 0
    good = published.documents["/fed.xml"]
    published.documents["/fed.xml"] = good.replace(b"https://member.example.org/acs",
                                                   b"https://attacker.example.net/acs")
    result = refresh_now(saml_app)
    assert result.exit_code == 2
    assert "signature" in result.output and "last good copy stays in use" in result.output
    page = client.get(path_and_query(member.login_redirect()))
    assert b"attacker.example.net" not in page.get_data()
    assert sso(client, member, csrf).is_authenticated()
    assert "signature" in status(saml_app)["fed"]["last_error"]


def test_a_signed_aggregate_wrapped_in_an_unsigned_one_is_refused(
        saml_app, client, federation, published, member):
    signed = etree.fromstring(federation.aggregate([member.registered]))
    wrapper = etree.Element(f"{{{signed.nsmap['md']}}}EntitiesDescriptor", nsmap=signed.nsmap,
                            validUntil=signed.get("validUntil"))
    wrapper.append(etree.fromstring(other_sp("evil.example.net").encode()))
    wrapper.append(signed)
    published.documents["/fed.xml"] = etree.tostring(wrapper)
    result = add_source(saml_app, federation, published.url + "/fed.xml")
    assert result.exit_code == 2 and "unsigned" in result.output
    assert "SAML-001" in client.get("/saml/sso/init", query_string={
        "sp": "https://evil.example.net/sp"}).get_data(as_text=True)


def test_an_expired_aggregate_is_refused_and_a_kept_copy_stops_at_its_valid_until(
        saml_app, client, csrf, person, federation, published, member, clock):
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    published.documents["/old.xml"] = federation.aggregate([member.registered], valid_until=past)
    result = add_source(saml_app, federation, published.url + "/old.xml")
    assert result.exit_code == 2 and "expired" in result.output
    published.documents["/fed.xml"] = federation.aggregate(
        [member.registered], valid_for=datetime.timedelta(hours=2))
    assert add_source(saml_app, federation, published.url + "/fed.xml", "--replace") \
        .exit_code == 0
    assert sso(client, member, csrf).is_authenticated()
    clock.advance(3 * 3600)  # the federation stopped publishing; the copy outlived validUntil
    page = client.get("/saml/sso/init", query_string={"sp": member.entity_id})
    assert "SAML-001" in page.get_data(as_text=True)
    assert status(saml_app)["fed"]["expired"] is True


def test_while_the_federation_is_down_the_last_good_copy_stays_in_use(
        saml_app, client, csrf, person, federation, published, member):
    published.documents["/fed.xml"] = federation.aggregate([member.registered])
    assert add_source(saml_app, federation, published.url + "/fed.xml").exit_code == 0
    published.stop()
    result = refresh_now(saml_app)
    assert result.exit_code == 2 and "fetch" in result.output
    assert sso(client, member, csrf).is_authenticated()
    state = status(saml_app)["fed"]
    assert state["in_use"] and "fetch" in state["last_error"]


def test_a_rotated_signing_key_needs_its_certificate_pinned(saml_app, client, csrf, person,
                                                            federation, published, member):
    published.documents["/fed.xml"] = federation.aggregate([member.registered])
    assert add_source(saml_app, federation, published.url + "/fed.xml").exit_code == 0
    old_cert = federation.cert
    federation.rotate("federation-2027")
    published.documents["/fed.xml"] = federation.aggregate(
        [member.registered, other_sp("new.example.org")])
    result = refresh_now(saml_app)
    assert result.exit_code == 2 and "signature" in result.output
    assert status(saml_app)["fed"]["entities"] == 1
    # the operator pins the federation's new certificate (beside the old one, for a rollover)
    result = saml_app.test_cli_runner().invoke(args=[
        "metadata", "source", "add", "fed", "--replace", "--url", published.url + "/fed.xml",
        "--cert", str(old_cert), "--cert", str(federation.cert)])
    assert result.exit_code == 0, result.output
    assert "fed: 2 SPs" in result.output
    assert sso(client, member, csrf).is_authenticated()


def test_filters_by_registration_authority_and_entity_category(saml_app, client, federation,
                                                               published):
    published.documents["/fed.xml"] = federation.aggregate([
        other_sp("ours-rs.example.org", authority=FEDERATION, categories=[RS]),
        other_sp("ours-plain.example.org", authority=FEDERATION),
        other_sp("theirs-rs.example.org", authority="https://other.example.net", categories=[RS]),
    ])
    assert "3 SPs" in add_source(saml_app, federation, published.url + "/fed.xml").output
    result = add_source(saml_app, federation, published.url + "/fed.xml", "--replace",
                        "--registration-authority", FEDERATION, "--entity-category", RS)
    assert result.exit_code == 0, result.output
    assert "1 SPs, 0 unusable, 2 filtered out" in result.output
    listing = saml_app.test_cli_runner().invoke(args=["sp", "list"]).output
    assert "https://ours-rs.example.org/sp\tfed" in listing
    assert "ours-plain" not in listing and "theirs-rs" not in listing


def test_a_local_registration_wins_over_the_federation(saml_app, client, federation, published,
                                                       tmp_path):
    published.documents["/fed.xml"] = federation.aggregate([other_sp("both.example.org")])
    assert add_source(saml_app, federation, published.url + "/fed.xml").exit_code == 0
    local = tmp_path / "local.xml"
    local.write_text(sp_metadata("https://both.example.org/sp", "https://both.example.org/local"))
    assert saml_app.test_cli_runner().invoke(args=["sp", "add", str(local)]).exit_code == 0
    listing = saml_app.test_cli_runner().invoke(args=["sp", "list"]).output
    assert "https://both.example.org/sp\tdatabase" in listing


def test_unusable_entities_are_left_out_and_counted(saml_app, federation, published):
    no_acs = ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
              'entityID="https://broken.example.org/sp"><md:SPSSODescriptor '
              'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
              "</md:EntityDescriptor>")
    published.documents["/fed.xml"] = federation.aggregate([no_acs, other_sp("ok.example.org")])
    result = add_source(saml_app, federation, published.url + "/fed.xml")
    assert result.exit_code == 0 and "1 SPs, 1 unusable" in result.output


def test_the_worker_refreshes_due_sources_once(saml_app, federation, published, clock):
    published.documents["/fed.xml"] = federation.aggregate([other_sp("a.example.org")])
    assert add_source(saml_app, federation, published.url + "/fed.xml", "--refresh", "1h") \
        .exit_code == 0
    published.documents["/fed.xml"] = federation.aggregate(
        [other_sp("a.example.org"), other_sp("b.example.org")])
    with saml_app.app_context():
        assert refresh.refresh_due() == []  # not due yet
    clock.advance(3601)
    with saml_app.app_context():
        outcomes = refresh.refresh_due()
        assert [(o.source, o.ok, o.entities) for o in outcomes] == [("fed", True, 2)]
        assert refresh.refresh_due() == []  # claimed and done: not again
    assert published.requests.count("/fed.xml") == 2


def test_a_file_source_and_its_removal(saml_app, federation, tmp_path):
    aggregate = tmp_path / "aggregate.xml"
    aggregate.write_bytes(federation.aggregate([other_sp("file.example.org")]))
    runner = saml_app.test_cli_runner()
    result = runner.invoke(args=["metadata", "source", "add", "local", "--file", str(aggregate),
                                 "--cert", str(federation.cert), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["entities"] == 1
    assert "https://file.example.org/sp\tlocal" in runner.invoke(args=["sp", "list"]).output
    assert runner.invoke(args=["metadata", "source", "remove", "local"]).exit_code == 0
    assert "file.example.org" not in runner.invoke(args=["sp", "list"]).output


@pytest.mark.parametrize("arguments, message", [
    (["--url", "https://a.example.org/md.xml", "--file", "x.xml"], "exactly one of"),
    (["--url", "ftp://a.example.org/md.xml"], "not an http(s) URL"),
    (["--url", "https://a.example.org/md.xml", "--refresh", "soon"], "not a duration"),
    (["--url", "https://a.example.org/md.xml", "--refresh", "10s"], "at most once a minute"),
])
def test_command_errors_are_one_line_with_status_2(saml_app, federation, arguments, message):
    result = saml_app.test_cli_runner().invoke(args=[
        "metadata", "source", "add", "fed", "--cert", str(federation.cert), *arguments])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_certificates_are_checked_when_pinned(saml_app, tmp_path):
    from saml_support import make_keypair

    _key, weak = make_keypair(tmp_path, "weak", bits=1024)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    runner = saml_app.test_cli_runner()
    for cert, message in ((weak, "1024 bits"), (not_pem, "no PEM certificate")):
        result = runner.invoke(args=["metadata", "source", "add", "fed", "--url",
                                     "https://a.example.org/md.xml", "--cert", str(cert)])
        assert result.exit_code == 2 and message in result.output
    for command in (["metadata", "refresh", "nothing"], ["metadata", "source", "remove", "x"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 2 and "no metadata source" in result.output


def test_the_worker_refreshes_in_a_thread_of_its_own(saml_app, federation, published, clock):
    published.documents["/fed.xml"] = federation.aggregate([other_sp("a.example.org")])
    assert add_source(saml_app, federation, published.url + "/fed.xml", "--refresh", "1h") \
        .exit_code == 0
    published.documents["/fed.xml"] = federation.aggregate(
        [other_sp("a.example.org"), other_sp("b.example.org")])
    clock.advance(3601)
    assert refresh.start_due_refreshes in saml_app.extensions["kleidi.housekeeping"]
    with saml_app.app_context():  # as kleidi worker's housekeeping calls it
        refresh.start_due_refreshes()
    saml_app.extensions["kleidi.saml.refreshing"].join(timeout=30)
    assert status(saml_app)["fed"]["entities"] == 2


def test_redirects_are_followed_to_http_only(saml_app, federation, published, member):
    published.documents["/real.xml"] = federation.aggregate([member.registered])
    published.redirects["/moved.xml"] = published.url + "/real.xml"
    assert add_source(saml_app, federation, published.url + "/moved.xml").exit_code == 0
    for elsewhere, refusal in (("ftp://127.0.0.1/real.xml", "not http(s)"),
                               ("file:///etc/hostname", "not allowed")):
        published.redirects["/moved.xml"] = elsewhere
        result = refresh_now(saml_app)
        assert result.exit_code == 2 and refusal in result.output
        assert status(saml_app)["fed"]["entities"] == 1
