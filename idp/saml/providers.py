"""Service providers: what the IdP keeps of an SP's metadata, read once when it is loaded.

An SP EntityDescriptor becomes a small frozen :class:`Provider` (its endpoints, keys, name ID
formats, entity categories, requested attributes, display names), not a full object model:
five thousand of them take a few megabytes. ``record``/``from_record`` turn one into the JSON
kept in the database for federation entities, so a process loads those without any XML.
Where the SPs come from and how they are looked up: ``idp.saml.directory``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from idp import clock
from idp.saml import hardening, vocabulary

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MDATTR = "urn:oasis:names:tc:SAML:metadata:attribute"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
MDRPI = "urn:oasis:names:tc:SAML:metadata:rpi"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"md": MD, "saml": SAML, "mdattr": MDATTR, "mdui": MDUI, "mdrpi": MDRPI,
      "ds": hardening.DS}
SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"


class MetadataError(ValueError):
    """SP metadata that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Policy:
    attributes: frozenset | None = None
    allow_unsolicited: bool = False
    sign_response: bool = True
    sign_assertions: bool = True
    encrypt_assertions: bool = True
    require_signed_requests: bool = False


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An AssertionConsumerService or SingleLogoutService of the SP's metadata."""

    binding: str
    location: str
    index: str | None = None
    is_default: str | None = None
    response_location: str | None = None


@dataclass(frozen=True, slots=True)
class Provider:
    entity_id: str
    source: str
    acs: tuple[Endpoint, ...] = ()
    slo: tuple[Endpoint, ...] = ()
    authn_requests_signed: bool = False
    categories: tuple = ()
    subject_id_req: str | None = None
    requested: frozenset = frozenset()
    names: dict = field(default_factory=dict)
    signing_certs: tuple = ()
    name_id_formats: tuple = ()
    encryption_certs: tuple = ()
    registration_authority: str | None = None
    valid_until: datetime | None = None
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


@dataclass(frozen=True, slots=True)
class Entity:
    """One SP EntityDescriptor of a document: the parsed element and what we keep of it."""

    element: etree._Element
    provider: Provider

    def xml(self) -> str:
        return etree.tostring(self.element, encoding="unicode")


def parse_metadata(xml: str | bytes, source: str) -> list[Provider]:
    """Every SP of a metadata document (one entity or an aggregate); any bad one refuses all."""
    return [entity.provider for entity in read_document(xml, source)]


def read_document(xml: str | bytes, source: str) -> list[Entity]:
    """Every SP EntityDescriptor of a metadata document; MetadataError if any is unusable."""
    try:
        root = hardening.parse(xml, max_bytes=20_000_000)
    except hardening.UnsafeMessage as exc:
        raise MetadataError(f"{source}: {exc}") from exc
    entities = [read_entity(element, source) for element in sp_elements(root)]
    if not entities:
        raise MetadataError(f"{source}: no SAML service provider in this metadata")
    return entities


def sp_elements(root: etree._Element) -> list[etree._Element]:
    """The EntityDescriptors of a document that describe a SAML 2.0 SP."""
    entities = [root] if root.tag == f"{{{MD}}}EntityDescriptor" else \
        root.iter(f"{{{MD}}}EntityDescriptor")
    return [entity for entity in entities if _sp_descriptor(entity) is not None]


def read_entity(entity: etree._Element, source: str) -> Entity:
    """What the IdP keeps of one SP EntityDescriptor; MetadataError if it cannot be used."""
    entity_id = entity.get("entityID", "")
    if not entity_id or len(entity_id) > 1024:
        raise MetadataError(f"{source}: missing or overlong entityID")
    valid_until = _valid_until(entity, source)
    sp = _sp_descriptor(entity)
    acs = _endpoints(sp, "AssertionConsumerService")
    if not acs:
        raise MetadataError(f"{source}: {entity_id} has no AssertionConsumerService")
    attributes = _entity_attributes(entity)
    requested = {vocabulary.BY_SAML_NAME.get(n) for n in sp.xpath(
        "md:AttributeConsumingService/md:RequestedAttribute/@Name", namespaces=NS)}
    return Entity(entity, Provider(
        entity_id=entity_id, source=source, acs=acs, slo=_endpoints(sp, "SingleLogoutService"),
        authn_requests_signed=sp.get("AuthnRequestsSigned") in ("true", "1"),
        categories=tuple(attributes.get(vocabulary.ENTITY_CATEGORY, ())),
        subject_id_req=next(iter(attributes.get(vocabulary.SUBJECT_ID_REQ, ())), None),
        requested=frozenset(requested - {None}),
        names={e.get(XML_LANG, "en"): _text(e) for e in sp.xpath(
            "md:Extensions/mdui:UIInfo/mdui:DisplayName", namespaces=NS)},
        signing_certs=_certificates(sp, "signing"),
        name_id_formats=tuple(_text(e) for e in sp.findall(f"{{{MD}}}NameIDFormat")),
        encryption_certs=_certificates(sp, "encryption"),
        registration_authority=registration_authority(entity), valid_until=valid_until,
    ))


def _sp_descriptor(entity):
    for sp in entity.iterchildren(f"{{{MD}}}SPSSODescriptor"):
        if SAML2_PROTOCOL in (sp.get("protocolSupportEnumeration") or "").split():
            return sp
    return None


def _text(element) -> str:
    # every text node: a comment inside an element must not cut its value short
    return "".join(element.itertext()).strip()


def _endpoints(sp, name: str) -> tuple[Endpoint, ...]:
    return tuple(Endpoint(binding=e.get("Binding", ""), location=e.get("Location", ""),
                          index=e.get("index"), is_default=e.get("isDefault"),
                          response_location=e.get("ResponseLocation"))
                 for e in sp.iterchildren(f"{{{MD}}}{name}"))


def _certificates(sp, use: str) -> tuple[str, ...]:
    """Base64 bodies of the SP's certificates for `use` (a KeyDescriptor without use: both)."""
    found = sp.xpath(f"md:KeyDescriptor[not(@use) or @use='{use}']"
                     "/ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS)
    return tuple("".join(_text(element).split()) for element in found)


def _valid_until(entity, source: str) -> datetime | None:
    valid_until = entity.get("validUntil")
    if not valid_until:
        return None
    expiry = parse_instant(valid_until, source)
    if expiry < clock.now():
        raise MetadataError(f"{source}: metadata expired at {valid_until}")
    return expiry


def parse_instant(value: str, source: str) -> datetime:
    """An xs:dateTime with a time zone (validUntil); MetadataError if it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise MetadataError(f"{source}: unreadable time {value!r}") from exc
    if parsed.tzinfo is None:
        raise MetadataError(f"{source}: time without a time zone {value!r}")
    return parsed


def registration_authority(entity) -> str | None:
    """mdrpi:RegistrationInfo/@registrationAuthority: the federation that registered it."""
    found = entity.xpath("md:Extensions/mdrpi:RegistrationInfo/@registrationAuthority",
                         namespaces=NS)
    return found[0] if found else None


def _entity_attributes(entity) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for attribute in entity.xpath("md:Extensions/mdattr:EntityAttributes/saml:Attribute",
                                  namespaces=NS):
        values = [_text(v) for v in attribute.findall(f"{{{SAML}}}AttributeValue")]
        found.setdefault(attribute.get("Name"), []).extend(values)
    return found


# -- The database form of a federation entity (JSON, no XML) ------------------------------


def record(provider: Provider) -> dict:
    """The JSON form of `provider` (without its source and policy)."""
    return {
        "acs": [_endpoint_record(e) for e in provider.acs],
        "slo": [_endpoint_record(e) for e in provider.slo],
        "ars": provider.authn_requests_signed, "cat": list(provider.categories),
        "sid": provider.subject_id_req, "req": sorted(provider.requested),
        "names": provider.names, "sig": list(provider.signing_certs),
        "nif": list(provider.name_id_formats), "enc": list(provider.encryption_certs),
        "ra": provider.registration_authority,
        "vu": provider.valid_until.isoformat() if provider.valid_until else None,
    }


def _endpoint_record(endpoint: Endpoint) -> list:
    return [endpoint.binding, endpoint.location, endpoint.index, endpoint.is_default,
            endpoint.response_location]


def from_record(entity_id: str, source: str, data: dict, certificates: dict) -> Provider:
    """The Provider of a JSON record; `certificates` shares equal certificate strings between
    SPs (one SP's signing and encryption key are often the same certificate)."""
    def shared(bodies):
        return tuple(certificates.setdefault(body, body) for body in bodies)

    return Provider(
        entity_id=entity_id, source=source,
        acs=tuple(Endpoint(*e) for e in data.get("acs", ())),
        slo=tuple(Endpoint(*e) for e in data.get("slo", ())),
        authn_requests_signed=data.get("ars", False), categories=tuple(data.get("cat", ())),
        subject_id_req=data.get("sid"), requested=frozenset(data.get("req", ())),
        names=data.get("names") or {}, signing_certs=shared(data.get("sig", ())),
        name_id_formats=tuple(data.get("nif", ())), encryption_certs=shared(data.get("enc", ())),
        registration_authority=data.get("ra"),
        valid_until=datetime.fromisoformat(data["vu"]) if data.get("vu") else None,
    )
