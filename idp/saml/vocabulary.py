"""The internal attribute vocabulary as SAML attributes, and REFEDS entity-category defaults.

Internal names are those of ``idp.attributes``; each maps once to a SAML attribute with the URI
name format and its usual FriendlyName. idp.saml.response writes the <saml:Attribute> elements
from this table (pysaml2 gets the same mapping through the converter made here), so nothing
outside it reaches an assertion.
"""

from __future__ import annotations

from saml2.attribute_converter import AttributeConverter
from saml2.saml import NAME_FORMAT_URI

EDUPERSON = "urn:oid:1.3.6.1.4.1.5923.1.1.1."
SCHAC = "urn:oid:1.3.6.1.4.1.25178.1.2."

#: internal name -> (FriendlyName, Name)
SAML_ATTRIBUTES = {
    "pairwise_id": ("pairwise-id", "urn:oasis:names:tc:SAML:attribute:pairwise-id"),
    "subject_id": ("subject-id", "urn:oasis:names:tc:SAML:attribute:subject-id"),
    "eduperson_unique_id": ("eduPersonUniqueId", EDUPERSON + "13"),
    "schgr_ac_person_id": ("schGrAcPersonID", "urn:oid:1.3.6.1.4.1.36215.1.2.3"),
    "eppn": ("eduPersonPrincipalName", EDUPERSON + "6"),
    "affiliation": ("eduPersonAffiliation", EDUPERSON + "1"),
    "scoped_affiliation": ("eduPersonScopedAffiliation", EDUPERSON + "9"),
    "primary_affiliation": ("eduPersonPrimaryAffiliation", EDUPERSON + "5"),
    "entitlement": ("eduPersonEntitlement", EDUPERSON + "7"),
    "display_name": ("displayName", "urn:oid:2.16.840.1.113730.3.1.241"),
    "given_name": ("givenName", "urn:oid:2.5.4.42"),
    "family_name": ("sn", "urn:oid:2.5.4.4"),
    "email": ("mail", "urn:oid:0.9.2342.19200300.100.1.3"),
    "schac_home_organization": ("schacHomeOrganization", SCHAC + "9"),
    "schac_home_organization_type": ("schacHomeOrganizationType", SCHAC + "10"),
    "schac_personal_unique_code": ("schacPersonalUniqueCode", SCHAC + "14"),
    "schac_expiry_date": ("schacExpiryDate", SCHAC + "17"),
}
BY_SAML_NAME = {name: internal for internal, (_friendly, name) in SAML_ATTRIBUTES.items()}
IDENTIFIERS = {"pairwise_id", "subject_id"}

ENTITY_CATEGORY = "http://macedir.org/entity-category"
SUBJECT_ID_REQ = "urn:oasis:names:tc:SAML:profiles:subject-id:req"
RESEARCH_AND_SCHOLARSHIP = "http://refeds.org/category/research-and-scholarship"
ANONYMOUS = "https://refeds.org/category/anonymous"
PSEUDONYMOUS = "https://refeds.org/category/pseudonymous"
PERSONALIZED = "https://refeds.org/category/personalized"

#: What each REFEDS category releases by default (its attribute bundle, in our vocabulary).
CATEGORY_RELEASE = {
    RESEARCH_AND_SCHOLARSHIP: {"subject_id", "eppn", "email", "display_name", "given_name",
                               "family_name", "scoped_affiliation"},
    ANONYMOUS: {"schac_home_organization", "scoped_affiliation", "entitlement"},
    PSEUDONYMOUS: {"pairwise_id", "schac_home_organization", "scoped_affiliation",
                   "entitlement"},
    PERSONALIZED: {"subject_id", "email", "display_name", "given_name", "family_name",
                   "schac_home_organization", "scoped_affiliation", "entitlement"},
}


def converter() -> AttributeConverter:
    """pysaml2's converter for our attributes: FriendlyName -> urn:oid name, URI name format."""
    conv = AttributeConverter(NAME_FORMAT_URI)
    conv.from_dict({
        "identifier": NAME_FORMAT_URI,
        "to": {friendly: name for friendly, name in SAML_ATTRIBUTES.values()},
        "fro": {name: friendly for friendly, name in SAML_ATTRIBUTES.values()},
    })
    return conv


def category_defaults(categories) -> set[str]:
    """The union of the default releases of the REFEDS categories an SP carries."""
    names: set[str] = set()
    for category in categories:
        names |= CATEGORY_RELEASE.get(category, set())
    return names


def choose_identifiers(names: set[str], subject_id_req: str | None) -> set[str]:
    """Apply the SP's subject-id:req (OASIS SAML subject identifier profile, section 3.4).

    The policy says which identifiers may go to the SP; the SP's requirement picks among
    them: ``pairwise-id`` or ``subject-id`` names one, ``any`` takes one that is allowed
    (the pairwise one when both are), ``none`` drops both. Allowing subject-id implies
    allowing the less revealing pairwise-id.
    """
    allowed = names & IDENTIFIERS
    if "subject_id" in allowed:
        allowed = allowed | {"pairwise_id"}
    others = names - IDENTIFIERS
    if subject_id_req is None:
        return others | (names & IDENTIFIERS)
    wanted = {"pairwise-id": {"pairwise_id"}, "subject-id": {"subject_id"},
              "any": {"pairwise_id"} if "pairwise_id" in allowed else {"subject_id"},
              "none": set()}.get(subject_id_req, set())
    return others | (wanted & allowed)
