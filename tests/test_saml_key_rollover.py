"""The SAML signing key's rollover: `kleidi keys saml stage|activate|retire`. The next
certificate is in the metadata before it signs anything; after activation responses are
signed with it, without a restart."""

from __future__ import annotations

import pytest
from lxml import etree
from saml_sp import sso
from saml_support import cert_body

from idp import keys
from idp.saml import signing_keys

pytest_plugins = ("saml_fixtures",)
MD = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}


@pytest.fixture
def rollover_app(app, tmp_path):
    folder = tmp_path / "keys"
    keys.ensure_dev_keys(folder)
    app.config.update(KEYS_DIR=str(folder), SAML_METADATA_CHECK_SECONDS=0)
    return app, folder


def _published(client) -> list[str]:
    root = etree.fromstring(client.get("/saml/metadata").get_data())
    return root.xpath('//md:IDPSSODescriptor/md:KeyDescriptor[@use="signing"]//ds:X509Certificate'
                      "/text()", namespaces=MD)


def _signed_with(client) -> str:
    root = etree.fromstring(client.get("/saml/metadata").get_data())
    return "".join(root.xpath("/md:EntityDescriptor/ds:Signature//ds:X509Certificate/text()",
                              namespaces=MD)[0].split())


def _run(app, *arguments, code=0):
    result = app.test_cli_runner().invoke(args=["keys", "saml", *arguments])
    assert result.exit_code == code, result.output
    return result.output


def test_stage_publishes_activate_signs_retire_unpublishes(rollover_app, client):
    app, folder = rollover_app
    first = cert_body(folder / "saml-signing.crt")
    assert _published(client) == [first]
    _run(app, "stage")
    staged = cert_body(folder / "saml-signing-next.crt")
    assert _published(client) == [first, staged]
    assert _signed_with(client) == first  # published, not yet signing
    assert "already staged" in _run(app, "stage", code=1)
    assert "may sign from" in _run(app, "activate", code=1)  # SPs have not had time to fetch it
    _run(app, "activate", "--force")
    assert _published(client) == [staged, first]
    assert _signed_with(client) == staged
    _run(app, "retire")
    assert _published(client) == [staged]
    assert "no previous" in _run(app, "retire", code=1)
    assert "no next key" in _run(app, "activate", code=1)


def test_activation_waits_for_the_notice(rollover_app, clock):
    app, folder = rollover_app
    _run(app, "stage")
    clock.advance(app.config["SAML_KEY_ROLLOVER_NOTICE_SECONDS"] + 1)
    _run(app, "activate")
    assert signing_keys.status(folder)["previous"] is not None


def _response_signer(auth) -> str:
    root = etree.fromstring(auth.get_last_response_xml().encode())
    found = root.xpath("//ds:Signature//ds:X509Certificate/text()", namespaces=MD)
    return "".join(found[0].split())


def test_an_sp_that_fetched_the_metadata_after_staging_accepts_both_keys(
        rollover_app, make_sp, client, csrf, login, make_account):
    app, folder = rollover_app
    first = cert_body(folder / "saml-signing.crt")
    _run(app, "stage")
    staged = cert_body(folder / "saml-signing-next.crt")
    sp = make_sp("wiki.example.org")  # python3-saml reads the metadata with both certificates
    login(client, *make_account())
    before = sso(client, sp, csrf)
    assert before.get_errors() == [] and _response_signer(before) == first
    _run(app, "activate", "--force")
    after = sso(client, sp, csrf)
    assert after.get_errors() == [], after.get_last_error_reason()
    assert _response_signer(after) == staged


def test_status_in_json(rollover_app):
    import json

    app, folder = rollover_app
    state = json.loads(_run(app, "status", "--json"))
    assert state["current"].endswith("saml-signing.crt") and state["next"] is None
    staged = json.loads(_run(app, "stage", "--json"))
    assert staged["next"].endswith("saml-signing-next.crt") and staged["staged_at"]


def test_responses_never_name_a_certificate_that_does_not_verify_them(rollover_app, client,
                                                                      tmp_path, monkeypatch):
    """Caught between the two files of a rollover, the IdP reads the pair again; a key that
    matches no certificate is refused outright rather than sent out under the wrong one."""
    from idp.saml import server

    app, folder = rollover_app
    certificate = folder / "saml-signing.crt"
    other = tmp_path / "other"
    keys.ensure_dev_keys(other)
    halfway = [certificate.read_bytes()]
    certificate.write_bytes((other / "saml-signing.crt").read_bytes())  # the key comes next

    def pause(_seconds):  # while the IdP waits, the rollover writes the key that goes with it
        if halfway:
            certificate.write_bytes(halfway.pop())

    monkeypatch.setattr(server.time, "sleep", pause)
    with app.app_context():
        signer = server._signer()
        assert signer.certificate == cert_body(certificate)
        assert not halfway  # it did have to read the pair again

        certificate.write_bytes((other / "saml-signing.crt").read_bytes())  # and never the key
        with pytest.raises(ValueError, match="does not match"):
            server._signer()
