"""A federation for the tests: its signing key, signed aggregates and MDQ answers, and a
loopback HTTP server that publishes them (and can be stopped, to play a federation that is
down)."""

from __future__ import annotations

import datetime
import hashlib
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from lxml import etree
from saml_support import make_keypair, sign_xml

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NSMAP = {"md": MD, "ds": "http://www.w3.org/2000/09/xmldsig#",
         "mdrpi": "urn:oasis:names:tc:SAML:metadata:rpi",
         "mdattr": "urn:oasis:names:tc:SAML:metadata:attribute",
         "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
ENTITY_CATEGORY = "http://macedir.org/entity-category"


def instant(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def extensions(authority: str | None = None, categories=()) -> str:
    """md:Extensions of an SP: who registered it, and its entity categories."""
    parts = []
    if authority:
        parts.append(f'<mdrpi:RegistrationInfo xmlns:mdrpi="{NSMAP["mdrpi"]}" '
                     f'registrationAuthority="{authority}"/>')
    if categories:
        values = "".join(f"<saml:AttributeValue>{c}</saml:AttributeValue>" for c in categories)
        parts.append(f'<mdattr:EntityAttributes xmlns:mdattr="{NSMAP["mdattr"]}" '
                     f'xmlns:saml="{NSMAP["saml"]}"><saml:Attribute Name="{ENTITY_CATEGORY}" '
                     'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
                     f"{values}</saml:Attribute></mdattr:EntityAttributes>")
    return f"<md:Extensions>{''.join(parts)}</md:Extensions>" if parts else ""


def with_extensions(entity_xml: str, authority: str | None = None, categories=()) -> str:
    """An SP's EntityDescriptor with md:Extensions put first inside it."""
    root = etree.fromstring(entity_xml.encode())
    added = extensions(authority, categories)
    if added:
        wrapper = etree.fromstring(f'<x xmlns:md="{MD}">{added}</x>'.encode())
        root.insert(0, wrapper[0])
    return etree.tostring(root, encoding="unicode")


class Federation:
    """A federation's metadata signing key and what it publishes."""

    def __init__(self, folder: Path, name: str = "federation"):
        self.folder = folder
        self.key, self.cert = make_keypair(folder, name)

    def rotate(self, name: str) -> None:
        """Sign from now on with a new key (the old certificate stays where it was)."""
        self.key, self.cert = make_keypair(self.folder, name)

    def aggregate(self, entities: list[str], valid_for=datetime.timedelta(days=4), *,
                  valid_until: datetime.datetime | None = None) -> bytes:
        """A signed EntitiesDescriptor holding `entities` (EntityDescriptor XML strings)."""
        until = valid_until or datetime.datetime.now(datetime.UTC) + valid_for
        root = etree.Element(f"{{{MD}}}EntitiesDescriptor", nsmap={"md": MD},
                             ID=f"_{uuid.uuid4().hex}", validUntil=instant(until),
                             Name="urn:example:federation")
        for xml in entities:
            root.append(etree.fromstring(xml.encode()))
        return sign_xml(etree.tostring(root), self.key, self.cert).encode()

    def entity(self, entity_xml: str, cache_duration: str | None = "PT1H",
               valid_for=datetime.timedelta(days=4)) -> bytes:
        """One signed EntityDescriptor, as an MDQ service answers."""
        root = etree.fromstring(entity_xml.encode())
        root.set("ID", f"_{uuid.uuid4().hex}")
        root.set("validUntil", instant(datetime.datetime.now(datetime.UTC) + valid_for))
        if cache_duration:
            root.set("cacheDuration", cache_duration)
        return sign_xml(etree.tostring(root), self.key, self.cert).encode()


def mdq_path(entity_id: str) -> str:
    return "/entities/{sha1}" + hashlib.sha1(entity_id.encode()).hexdigest()  # noqa: S324


class MetadataServer:
    """A loopback HTTP server publishing documents by path; counts what it was asked for."""

    def __init__(self):
        self.documents: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.requests: list[str] = []
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                path = unquote(self.path)
                served.requests.append(path)
                if path in served.redirects:
                    self.send_response(302)
                    self.send_header("Location", served.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = served.documents.get(path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """The federation is down: nothing answers on the port any more."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
