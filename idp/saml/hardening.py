"""Checks on untrusted SAML XML, run before any signature verification work.

Everything here is cheap and refuses early: a DTD or entity declaration, an oversized or
over-compressed message, a signature whose shape could hide a wrapping attack, an algorithm we
do not accept. Only a message that passes is handed to xmlsec and pysaml2.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from datetime import datetime, timedelta

from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
_DS = f"{{{DS}}}"

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

CANONICALIZATIONS = frozenset({EXC_C14N, EXC_C14N_COMMENTS})
TRANSFORMS = frozenset({ENVELOPED, EXC_C14N, EXC_C14N_COMMENTS})
SIGNATURE_ALGORITHMS = frozenset({
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
})
DIGEST_ALGORITHMS = frozenset({
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
})

RELAY_STATE_MAX_BYTES = 80  # SAML bindings 3.4.3 / 3.5.3: MUST NOT exceed 80 bytes

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_blank_text=False,
)
# Declarations are refused before parsing: no DTD means no entity expansion, internal or external.
_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([^\"']+)[\"']")


class UnsafeMessage(ValueError):
    """A message refused by these checks; `reason` is a short stable word for logs and codes."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def parse(data: bytes | str, max_bytes: int = 200_000) -> etree._Element:
    """Parse untrusted XML with no DTD, no entities, no network; return the root element."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise UnsafeMessage("too-large", f"{len(data)} bytes")
    _refuse_declarations(data)
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnsafeMessage("malformed", str(exc)) from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeMessage("dtd")
    return root


def _refuse_declarations(data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeMessage("encoding", "not UTF-8") from exc
    declared = _ENCODING.match(data)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise UnsafeMessage("encoding", declared.group(1).decode("ascii", "replace"))
    if _DECLARATION.search(data):
        raise UnsafeMessage("dtd")


def decode_post(value: str, max_bytes: int = 200_000) -> bytes:
    """Decode an HTTP-POST binding parameter (base64, not compressed)."""
    if len(value) > max_bytes * 4 // 3 + 4:
        raise UnsafeMessage("too-large", f"{len(value)} characters")
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise UnsafeMessage("encoding", "bad base64") from exc


def decode_redirect(value: str, max_bytes: int = 200_000) -> bytes:
    """Decode an HTTP-Redirect binding parameter (base64 + raw DEFLATE), bounded when inflating."""
    raw = decode_post(value, max_bytes)
    inflater = zlib.decompressobj(-15)
    try:
        data = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise UnsafeMessage("encoding", "bad deflate") from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise UnsafeMessage("too-large", "inflated message over the limit")
    return data


def signature_of(element: etree._Element) -> etree._Element | None:
    """The enveloped signature of `element` after checking its shape, or None if unsigned.

    Refuses (UnsafeMessage) every shape that is not the SAML profile of XML Signature
    (SAML core 5.4): one signature, direct child of the signed element, one reference to that
    element's own unique ID, only enveloped-signature and exclusive c14n transforms, accepted
    algorithms only (no SHA-1), no ds:Object.
    """
    signatures = element.findall(f"{_DS}Signature")
    if not signatures:
        return None
    if len(signatures) > 1:
        raise UnsafeMessage("signature-shape", "more than one signature")
    signature = signatures[0]
    _check_reference_target(element, signature)
    _check_algorithms(signature)
    if signature.find(f"{_DS}Object") is not None:
        raise UnsafeMessage("signature-shape", "ds:Object present")
    return signature


def refuse_nested_signatures(root: etree._Element) -> None:
    """Requests carry at most the root's own signature; any other one is a wrapping attempt."""
    for signature in root.iter(f"{_DS}Signature"):
        if signature.getparent() is not root:
            raise UnsafeMessage("signature-shape", "signature below the root element")


def _check_reference_target(element: etree._Element, signature: etree._Element) -> None:
    element_id = element.get("ID")
    if not element_id:
        raise UnsafeMessage("signature-shape", "signed element has no ID")
    references = signature.findall(f"{_DS}SignedInfo/{_DS}Reference")
    if len(references) != 1 or references[0].get("URI") != f"#{element_id}":
        raise UnsafeMessage("signature-shape", "reference is not the signed element")
    same_id = element.getroottree().getroot().xpath("//@*[local-name()='ID' or local-name()='Id'"
                                                    " or local-name()='id'][. = $v]", v=element_id)
    if len(same_id) != 1:
        raise UnsafeMessage("signature-shape", "duplicate ID")


def _check_algorithms(signature: etree._Element) -> None:
    info = signature.find(f"{_DS}SignedInfo")
    c14n = info.find(f"{_DS}CanonicalizationMethod")
    if c14n is None or c14n.get("Algorithm") not in CANONICALIZATIONS:
        raise UnsafeMessage("algorithm", "canonicalization")
    method = info.find(f"{_DS}SignatureMethod")
    if method is None or method.get("Algorithm") not in SIGNATURE_ALGORITHMS:
        raise UnsafeMessage("algorithm", method.get("Algorithm", "") if method is not None else "")
    reference = info.find(f"{_DS}Reference")
    transforms = [t.get("Algorithm") for t in reference.findall(f"{_DS}Transforms/{_DS}Transform")]
    if ENVELOPED not in transforms or len(transforms) > 2 or not set(transforms) <= TRANSFORMS:
        raise UnsafeMessage("transform", ",".join(str(t) for t in transforms))
    digest = reference.find(f"{_DS}DigestMethod")
    if digest is None or digest.get("Algorithm") not in DIGEST_ALGORITHMS:
        raise UnsafeMessage("algorithm", digest.get("Algorithm", "") if digest is not None else "")


def check_redirect_algorithm(sigalg: str | None) -> None:
    """Refuse a SigAlg of the HTTP-Redirect binding that we do not accept (SHA-1 above all)."""
    if sigalg not in SIGNATURE_ALGORITHMS:
        raise UnsafeMessage("algorithm", str(sigalg))


def check_issue_instant(value: str | None, now: datetime, max_age: int, skew: int) -> None:
    """Refuse an IssueInstant older than `max_age` seconds or later than `skew` seconds ahead."""
    try:
        issued = _parse_instant(value or "")
    except ValueError as exc:
        raise UnsafeMessage("issue-instant", "unreadable") from exc
    if issued > now + timedelta(seconds=skew):
        raise UnsafeMessage("issue-instant", "in the future")
    if issued < now - timedelta(seconds=max_age + skew):
        raise UnsafeMessage("issue-instant", "stale")


def check_not_expired(value: str, now: datetime, skew: int) -> None:
    """Refuse a message whose NotOnOrAfter has passed (beyond the allowed skew)."""
    try:
        expiry = _parse_instant(value)
    except ValueError as exc:
        raise UnsafeMessage("issue-instant", "unreadable NotOnOrAfter") from exc
    if expiry <= now - timedelta(seconds=skew):
        raise UnsafeMessage("issue-instant", "expired")


def _parse_instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed


def check_relay_state(value: str | None) -> None:
    """RelayState is opaque to us: only its size is checked (80 bytes, SAML bindings)."""
    if value is not None and len(value.encode("utf-8")) > RELAY_STATE_MAX_BYTES:
        raise UnsafeMessage("relay-state", "over 80 bytes")
