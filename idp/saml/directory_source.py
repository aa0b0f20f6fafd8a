"""pysaml2's view of the directory: one metadata source that looks SPs up by entityID.

pysaml2's MetadataStore asks each of its sources in turn; given one inline source per SP it
scanned all of them for every message. Its only source here is :class:`DirectorySource`, which
answers from ``idp.saml.directory`` in one dict look-up and builds the few dicts pysaml2 reads
(the SP's AssertionConsumerService and SingleLogoutService endpoints, its keys) on demand
from the small Provider, so no full object model of any SP is ever kept.
"""

from __future__ import annotations

from saml2.mdstore import MetaData, MetadataStore

from idp.saml import directory
from idp.saml.providers import Endpoint, Provider

_SERVICES = {"assertion_consumer_service": ("acs", "AssertionConsumerService"),
             "single_logout_service": ("slo", "SingleLogoutService")}


class DirectorySource(MetaData):
    """A pysaml2 metadata source over the current app's directory of SPs."""

    def __init__(self):
        super().__init__(attrc=None)

    def __contains__(self, entity_id) -> bool:
        return directory.find(entity_id) is not None

    def __getitem__(self, entity_id) -> dict:
        provider = directory.find(entity_id)
        if provider is None:
            raise KeyError(entity_id)
        return {"entity_id": entity_id, "spsso_descriptor": [_descriptor(provider)]}

    def keys(self):
        return [p.entity_id for p in directory.providers_now()]

    def items(self):
        return [(p.entity_id, self[p.entity_id]) for p in directory.providers_now()]

    def values(self):
        return [value for _key, value in self.items()]

    def __len__(self) -> int:
        return len(directory.providers_now())

    def construct_source_id(self) -> dict:
        return {}  # no artifact binding: nothing is resolved by source ID

    def service(self, entity_id, typ, service, binding=None):
        """The SP's endpoints of `service` (for `binding`, or all by binding); None if the
        entity is unknown, as pysaml2's own sources answer."""
        provider = directory.find(entity_id)
        if provider is None:
            return None
        if typ != "spsso_descriptor" or service not in _SERVICES:
            return []
        attribute, element = _SERVICES[service]
        found = [_endpoint(element, e) for e in getattr(provider, attribute)]
        if binding:
            return [srv for srv in found if srv["binding"] == binding]
        grouped: dict[str, list] = {}
        for srv in found:
            grouped.setdefault(srv["binding"], []).append(srv)
        return grouped


def _endpoint(element: str, endpoint: Endpoint) -> dict:
    found = {"__class__": f"urn:oasis:names:tc:SAML:2.0:metadata&{element}",
             "binding": endpoint.binding, "location": endpoint.location}
    for key in ("index", "is_default", "response_location"):
        value = getattr(endpoint, key)
        if value is not None:
            found[key] = value
    return found


def _descriptor(provider: Provider) -> dict:
    return {
        "protocol_support_enumeration": "urn:oasis:names:tc:SAML:2.0:protocol",
        "assertion_consumer_service": [_endpoint("AssertionConsumerService", e)
                                       for e in provider.acs],
        "single_logout_service": [_endpoint("SingleLogoutService", e) for e in provider.slo],
        "key_descriptor": [_key(use, body) for use, bodies in
                           (("signing", provider.signing_certs),
                            ("encryption", provider.encryption_certs)) for body in bodies],
        "name_id_format": [{"text": f} for f in provider.name_id_formats],
    }


def _key(use: str, body: str) -> dict:
    return {"use": use, "key_info": {"x509_data": [{"x509_certificate": {"text": body}}]}}


def attach(store: MetadataStore) -> MetadataStore:
    """`store` with the directory as its one source."""
    store.metadata = {"kleidi-directory": DirectorySource()}
    return store
