"""An independent SAML SP in another language, on its defaults: node-saml (the core of
passport-saml, from the npm registry) logs in with Kleidi's defaults and no per-SP policy, and
accepts Kleidi's signed LogoutRequest, whose SessionIndex is the one of its assertion."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from interop import node_env
from lxml import html
from saml_sp import follow, path_and_query, post_form
from saml_support import make_keypair

pytest_plugins = ("saml_fixtures",)

HOST = "node-sp.example.org"
PERSONALIZED = "https://refeds.org/category/personalized"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"


class NodeSP:
    """The node-saml process; each step is one JSON line each way."""

    def __init__(self, process: subprocess.Popen):
        self.process = process

    def send(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def receive(self, event: str) -> dict:
        line = self.process.stdout.readline()
        assert line, self.process.stderr.read()
        message = json.loads(line)
        assert message["event"] == event, message
        return message


@contextmanager
def node_sp(node_dir: Path, keys_dir, *, encrypted: bool, tmp_path):
    config = {"entity_id": f"https://{HOST}/metadata", "acs": f"https://{HOST}/acs",
              "slo": f"https://{HOST}/slo", "sso_url": "http://localhost/saml/sso/redirect",
              "slo_url": "http://localhost/saml/slo/redirect",
              "idp_cert": (Path(keys_dir) / "saml-signing.crt").read_text()}
    if encrypted:
        key, cert = make_keypair(tmp_path, HOST)
        config.update(sp_key=key.read_text(), sp_cert=cert.read_text())
    command = [node_env.node(), str(node_dir / "sp.mjs"), json.dumps(config)]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            yield NodeSP(process)
        finally:
            process.kill()


def with_category(metadata: str, uri: str) -> str:
    """The SP's metadata with the entity category its federation gives it."""
    extension = (
        '<Extensions xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><mdattr:EntityAttributes '
        'xmlns:mdattr="urn:oasis:names:tc:SAML:metadata:attribute">'
        '<saml:Attribute xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        'Name="http://macedir.org/entity-category" '
        'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
        f"<saml:AttributeValue>{uri}</saml:AttributeValue></saml:Attribute>"
        "</mdattr:EntityAttributes></Extensions>")
    return re.sub(r"(<(?:\w+:)?SPSSODescriptor)", extension + r"\1", metadata, count=1)


@pytest.mark.parametrize("encrypted", [False, True])
def test_node_saml_on_its_defaults_logs_in_and_accepts_the_logout(
        node_dir, keys_dir, saml_app, client, csrf, make_account, login, tmp_path, encrypted):
    username, password = make_account()
    login(client, username, password)
    with node_sp(node_dir, keys_dir, encrypted=encrypted, tmp_path=tmp_path) as sp:
        metadata = sp.receive("metadata")["xml"]
        (Path(saml_app.config["METADATA_DIR"]) / "node.xml").write_text(
            with_category(metadata, PERSONALIZED))
        page = follow(client, client.get(path_and_query(sp.receive("authorize")["url"])), csrf)
        action, fields = post_form(page.get_data())
        assert action == f"https://{HOST}/acs"
        assert ("EncryptedAssertion" in _decoded(fields)) is encrypted
        sp.send(fields)
        profile = sp.receive("login")["profile"]
        assert profile["nameIDFormat"] == EMAIL_FORMAT  # node-saml's default request
        assert profile["nameID"] == profile[MAIL] == f"{username}@example.edu"
        assert profile["sessionIndex"]

        confirm = client.get("/saml/logout")
        frame = _frames(client.post("/saml/logout", data={"csrf_token": csrf(confirm)}))[0]
        action, fields = post_form(client.get(frame).get_data())  # node-saml's SLO is POST
        assert action == f"https://{HOST}/slo"
        sp.send(fields)
        logout = sp.receive("logout")["profile"]
        assert logout["nameID"] == profile["nameID"]
        assert logout["sessionIndex"] == profile["sessionIndex"]


def _decoded(fields: dict) -> str:
    return base64.b64decode(fields["SAMLResponse"]).decode()


def _frames(page) -> list[str]:
    return [frame.get("src") for frame in html.fromstring(page.get_data()).iter("iframe")]
