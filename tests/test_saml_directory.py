"""The directory of SPs in a server process: built before serving, kept current by a background
thread, never rebuilt inside a request."""

import time

import pytest
from federation_support import Federation, MetadataServer
from saml_sp import set_policy
from saml_support import sp_metadata

from idp.saml import directory

pytest_plugins = ("saml_fixtures",)


def register(app, tmp_path, host: str) -> str:
    path = tmp_path / f"{host}.xml"
    path.write_text(sp_metadata(f"https://{host}/sp", f"https://{host}/acs"))
    result = app.test_cli_runner().invoke(args=["sp", "add", str(path)])
    assert result.exit_code == 0, result.output
    return f"https://{host}/sp"


def known(client, entity_id: str) -> bool:
    """Whether IdP-initiated login to `entity_id` gets past the look-up (SAML-010: known, but
    not allowed; SAML-001: unknown)."""
    body = client.get("/saml/sso/init", query_string={"sp": entity_id}).get_data(as_text=True)
    assert "SAML-010" in body or "SAML-001" in body
    return "SAML-010" in body


@pytest.fixture
def served(saml_app):
    """The app as a server process has it: directory prepared, watcher stopped at the end."""
    yield lambda: directory.prepare(saml_app)
    if directory.EXTENSION in saml_app.extensions:
        saml_app.extensions[directory.EXTENSION].stop()


def test_a_request_never_rebuilds_the_index_of_a_server(saml_app, client, tmp_path, served):
    first = register(saml_app, tmp_path, "first.example.org")
    served()
    saml_app.extensions[directory.EXTENSION].stop()  # no background thread in this test
    assert known(client, first)
    second = register(saml_app, tmp_path, "second.example.org")
    # SAML_METADATA_CHECK_SECONDS is 0 here, yet the request path does not look for changes
    assert not known(client, second)


def test_the_background_thread_swaps_changes_in(saml_app, client, tmp_path, served):
    saml_app.config["SAML_METADATA_CHECK_SECONDS"] = 0.2  # saml_app sets 0
    served()
    entity_id = register(saml_app, tmp_path, "later.example.org")
    assert wait_until(lambda: known(client, entity_id))
    assert saml_app.test_cli_runner().invoke(args=[
        "sp", "remove", entity_id, "--reason", "retired"]).exit_code == 0
    assert wait_until(lambda: not known(client, entity_id))


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_change_rereads_only_what_changed(saml_app, client, tmp_path):
    folder = tmp_path / "federation"
    folder.mkdir()
    federation, server = Federation(folder), MetadataServer()
    try:
        server.documents["/fed.xml"] = federation.aggregate([
            sp_metadata(f"https://sp{n}.example.org/sp", f"https://sp{n}.example.org/acs")
            for n in range(3)])
        assert saml_app.test_cli_runner().invoke(args=[
            "metadata", "source", "add", "fed", "--url", server.url + "/fed.xml",
            "--cert", str(federation.cert)]).exit_code == 0
    finally:
        server.stop()
    with saml_app.app_context():
        before = directory.current().current()
    set_policy(saml_app, "https://sp1.example.org/sp", allow_unsolicited=True)
    with saml_app.app_context():
        after = directory.current().current()
    assert after is not before
    assert after.parts["source:fed"] is before.parts["source:fed"]
    assert after.providers["https://sp1.example.org/sp"].policy.allow_unsolicited
    assert not before.providers["https://sp1.example.org/sp"].policy.allow_unsolicited
