"""What one person's assertion to one SP carries: attributes by policy, and the NameID."""

from __future__ import annotations

import secrets

from saml2.saml import (
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
    NameID,
)

from idp import attributes
from idp.identity.models import Account
from idp.saml.providers import Provider

SUPPORTED_NAMEID_FORMATS = (NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT)


def values_for(account: Account, provider: Provider, lang: str = "en") -> dict[str, list[str]]:
    """The internal attributes (name -> values) released to `provider`: its policy, no more.

    The pairwise-id is computed for the SP's entityID as its sector: the same person gets
    the same value at the same SP every time and unrelated values at different SPs.
    """
    approved = provider.approved()
    available = attributes.person_attributes(account, lang, approved)
    if "pairwise_id" in approved:
        available["pairwise_id"] = [attributes.pairwise_id(account, provider.entity_id)]
    return {name: available[name] for name in sorted(approved) if available.get(name)}


def choose_format(requested: str | None, provider_formats: list[str],
                  released: dict | None = None) -> str | None:
    """The NameID format to answer with, or None if the request's format is unsupported.

    An email-address NameID (what some SP libraries ask for on their defaults) is the email
    the SP receives anyway: only when asked for, and only when ``released`` (its attributes)
    carries one.
    """
    supported = SUPPORTED_NAMEID_FORMATS
    if (released or {}).get("email"):
        supported = (*supported, NAMEID_FORMAT_EMAILADDRESS)
    if requested and requested != NAMEID_FORMAT_UNSPECIFIED:
        return requested if requested in supported else None
    for name_format in provider_formats:
        if name_format in SUPPORTED_NAMEID_FORMATS:
            return name_format
    return NAMEID_FORMAT_PERSISTENT


def name_id(account: Account, provider: Provider, name_format: str, idp_entity_id: str,
            released: dict[str, list[str]]) -> NameID:
    """Persistent: the pairwise value for this SP; transient: a fresh random value; email
    address: the released email (``released``: the SP's attributes, which ``choose_format``
    required to carry one)."""
    if name_format == NAMEID_FORMAT_PERSISTENT:
        value = attributes.pairwise_unique(account, provider.entity_id)
    elif name_format == NAMEID_FORMAT_EMAILADDRESS:
        value = released["email"][0]
    else:
        value = "_" + secrets.token_hex(20)
    return NameID(format=name_format, text=value, name_qualifier=idp_entity_id,
                  sp_name_qualifier=provider.entity_id)
