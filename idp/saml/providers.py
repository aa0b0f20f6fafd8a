"""Service providers: metadata files in METADATA_DIR plus registrations in the database.

The set is read into a snapshot keyed by a fingerprint of its sources (file names, times and
sizes; row counts and last changes). Each process re-checks the fingerprint at most every
SAML_METADATA_CHECK_SECONDS, so adding or changing an SP takes effect without a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from lxml import etree

from idp import clock, db
from idp.saml import hardening, vocabulary
from idp.saml.models import ReleasePolicy, ServiceProvider

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MDATTR = "urn:oasis:names:tc:SAML:metadata:attribute"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"md": MD, "saml": SAML, "mdattr": MDATTR, "mdui": MDUI}


class MetadataError(ValueError):
    """SP metadata that cannot be used; the message says why."""


@dataclass(frozen=True)
class Policy:
    attributes: frozenset | None = None
    allow_unsolicited: bool = False
    sign_response: bool = True
    sign_assertions: bool = True
    encrypt_assertions: bool = True
    require_signed_requests: bool = False


@dataclass(frozen=True)
class Provider:
    entity_id: str
    xml: str
    source: str
    authn_requests_signed: bool = False
    categories: tuple = ()
    subject_id_req: str | None = None
    requested: frozenset = frozenset()
    names: dict = field(default_factory=dict)
    signing_certs: tuple = ()
    name_id_formats: tuple = ()
    encryption_certs: tuple = ()
    policy: Policy = Policy()

    @property
    def encryption_key(self) -> bool:
        return bool(self.encryption_certs)

    def display_name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or self.entity_id

    def approved(self) -> set[str]:
        """Internal attribute names this SP may receive (before subject-id:req)."""
        names = (set(self.policy.attributes) if self.policy.attributes is not None
                 else vocabulary.category_defaults(self.categories))
        if self.requested:
            names &= self.requested | vocabulary.IDENTIFIERS
        return vocabulary.choose_identifiers(names, self.subject_id_req)


def parse_metadata(xml: str | bytes, source: str) -> list[Provider]:
    """Every SP EntityDescriptor in a metadata document (one entity or an aggregate)."""
    try:
        root = hardening.parse(xml, max_bytes=20_000_000)
    except hardening.UnsafeMessage as exc:
        raise MetadataError(f"{source}: {exc}") from exc
    entities = [root] if root.tag == f"{{{MD}}}EntityDescriptor" else \
        root.findall(f".//{{{MD}}}EntityDescriptor")
    providers = [_provider(entity, source) for entity in entities
                 if entity.find(f"{{{MD}}}SPSSODescriptor") is not None]
    if not providers:
        raise MetadataError(f"{source}: no SAML service provider in this metadata")
    return providers


def _provider(entity, source: str) -> Provider:
    entity_id = entity.get("entityID", "")
    if not entity_id or len(entity_id) > 1024:
        raise MetadataError(f"{source}: missing or overlong entityID")
    _check_valid_until(entity, source)
    sp = entity.find(f"{{{MD}}}SPSSODescriptor")
    if sp.find(f"{{{MD}}}AssertionConsumerService") is None:
        raise MetadataError(f"{source}: {entity_id} has no AssertionConsumerService")
    attributes = _entity_attributes(entity)
    requested = {vocabulary.BY_SAML_NAME.get(n) for n in sp.xpath(
        "md:AttributeConsumingService/md:RequestedAttribute/@Name", namespaces=NS)}
    return Provider(
        entity_id=entity_id, xml=etree.tostring(entity, encoding="unicode"), source=source,
        authn_requests_signed=sp.get("AuthnRequestsSigned") in ("true", "1"),
        categories=tuple(attributes.get(vocabulary.ENTITY_CATEGORY, ())),
        subject_id_req=next(iter(attributes.get(vocabulary.SUBJECT_ID_REQ, ())), None),
        requested=frozenset(requested - {None}),
        names={e.get(XML_LANG, "en"): (e.text or "").strip() for e in sp.xpath(
            "md:Extensions/mdui:UIInfo/mdui:DisplayName", namespaces=NS)},
        signing_certs=_certificates(sp, "signing"),
        name_id_formats=tuple((t or "").strip() for t in sp.xpath("md:NameIDFormat/text()",
                                                                   namespaces=NS)),
        encryption_certs=_certificates(sp, "encryption"),
    )


def _certificates(sp, use: str) -> tuple[str, ...]:
    """Base64 bodies of the SP's certificates for `use` (a KeyDescriptor without use: both)."""
    found = sp.xpath(f"md:KeyDescriptor[not(@use) or @use='{use}']"
                     "/ds:KeyInfo/ds:X509Data/ds:X509Certificate/text()",
                     namespaces={**NS, "ds": hardening.DS})
    return tuple("".join(text.split()) for text in found)


def _check_valid_until(entity, source: str) -> None:
    valid_until = entity.get("validUntil")
    if not valid_until:
        return
    try:
        expiry = datetime.fromisoformat(valid_until.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MetadataError(f"{source}: unreadable validUntil {valid_until!r}") from exc
    if expiry.tzinfo is None or expiry < clock.now():
        raise MetadataError(f"{source}: metadata expired at {valid_until}")


def _entity_attributes(entity) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for attribute in entity.xpath("md:Extensions/mdattr:EntityAttributes/saml:Attribute",
                                  namespaces=NS):
        values = [(v.text or "").strip() for v in attribute.findall(f"{{{SAML}}}AttributeValue")]
        found.setdefault(attribute.get("Name"), []).extend(values)
    return found


# -- The snapshot --------------------------------------------------------------------------


@dataclass
class Snapshot:
    fingerprint: tuple
    providers: dict[str, Provider]
    checked_at: float = 0.0
    cache: dict = field(default_factory=dict)  # derived objects (the pysaml2 Server)


def snapshot() -> Snapshot:
    """The current set of SPs, re-read when one of its sources changed."""
    current: Snapshot | None = current_app.extensions.get("kleidi.saml.snapshot")
    interval = current_app.config["SAML_METADATA_CHECK_SECONDS"]
    if current is not None and time.monotonic() - current.checked_at < interval:
        return current
    fingerprint = _fingerprint()
    if current is None or current.fingerprint != fingerprint:
        current = Snapshot(fingerprint, _load())
        current_app.extensions["kleidi.saml.snapshot"] = current
    current.checked_at = time.monotonic()
    return current


def find(entity_id: str | None) -> Provider | None:
    return snapshot().providers.get(entity_id or "")


def display_name(entity_id: str, lang: str) -> str | None:
    """The SP's mdui:DisplayName in ``lang`` (else English, else any), for the pages."""
    provider = find(entity_id)
    if provider is None or not provider.names:
        return None
    return provider.names.get(lang) or provider.names.get("en") or next(iter(provider.names.values()))


def _metadata_files() -> list[Path]:
    folder = Path(current_app.config["METADATA_DIR"])
    return sorted(folder.glob("*.xml")) if folder.is_dir() else []


def _fingerprint() -> tuple:
    files = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in _metadata_files())
    return files, _table_versions()


def _table_versions() -> tuple:
    session = db.session()
    return tuple(session.execute(sa.select(sa.func.count(), sa.func.max(table.updated_at))).one()
                 for table in (ServiceProvider, ReleasePolicy))


def _load() -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for path in _metadata_files():
        try:
            for provider in parse_metadata(path.read_bytes(), path.name):
                providers.setdefault(provider.entity_id, provider)
        except MetadataError as exc:
            current_app.logger.error("SAML metadata skipped: %s", exc)
    for row in db.session().scalars(sa.select(ServiceProvider)):
        try:
            for provider in parse_metadata(row.metadata_xml, "database"):
                providers[provider.entity_id] = provider
        except MetadataError as exc:
            current_app.logger.error("SAML metadata skipped: %s", exc)
    policies = {p.entity_id: p for p in db.session().scalars(sa.select(ReleasePolicy))}
    return {entity_id: _with_policy(provider, policies.get(entity_id))
            for entity_id, provider in providers.items()}


def _with_policy(provider: Provider, row: ReleasePolicy | None) -> Provider:
    if row is None:
        return provider
    policy = Policy(
        attributes=frozenset(row.attributes) if row.attributes is not None else None,
        allow_unsolicited=row.allow_unsolicited, sign_response=row.sign_response,
        sign_assertions=row.sign_assertions, encrypt_assertions=row.encrypt_assertions,
        require_signed_requests=row.require_signed_requests,
    )
    return replace(provider, policy=policy)
