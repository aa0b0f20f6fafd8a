"""A federation's signed metadata: fetched, verified against pinned certificates, filtered.

Nothing in a document is used before its signature verifies: the document is parsed without
DTDs or entities, its one signature must be the root's own (enveloped, referencing the root's
unique ID, profile algorithms only: ``hardening.signature_of``), and it must verify with one of
the certificates pinned for the source (never a key the document carries). Only then is
``validUntil`` read (required, and in the future) and are the SP entities read from that same,
verified root element, so a wrapped copy elsewhere in the document is never what is used.
"""

from __future__ import annotations

import hashlib
import re
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.error import HTTPError, URLError
from urllib.parse import quote

import xmlsec
from lxml import etree
from saml2.time_util import parse_duration

from idp import clock
from idp.saml import crypto, hardening, providers

MEDIA_TYPE = "application/samlmetadata+xml"
_REASONS = {"signature-shape": "signature", "algorithm": "signature", "transform": "signature",
            "too-large": "too-large"}
_ROOTS = {f"{{{providers.MD}}}EntitiesDescriptor", f"{{{providers.MD}}}EntityDescriptor"}


_PEM = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")


def split_certificates(text: str) -> list[str]:
    """The PEM certificates in a text (a file may hold several, and other lines), one each."""
    return [match + "\n" for match in _PEM.findall(text)]


class SourceError(Exception):
    """A document that could not be fetched or must not be used; `reason` is a stable word."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Verified:
    """The verified root of a document, when it stops being valid and how long to cache it."""

    root: etree._Element
    valid_until: datetime
    cache_duration: timedelta | None
    sha256: str


@dataclass(frozen=True)
class Selection:
    """The SPs of a verified document that pass the source's filters."""

    entities: list[providers.Entity]
    skipped: list[str]  # why each unusable SP was left out
    filtered: int  # usable SPs that the filters left out


class _HTTPRedirectsOnly(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to another http(s) URL (urllib would follow one to ftp:)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.startswith(("https://", "http://")):
            raise HTTPError(newurl, code, "redirect to a URL that is not http(s)", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HTTPRedirectsOnly)


def fetch(location: str, *, max_bytes: int, timeout: float) -> bytes:
    """The bytes at an http(s) URL, or of a file path; SourceError if they cannot be had."""
    if not location.startswith(("https://", "http://")):
        try:
            with open(location, "rb") as handle:
                return _bounded(handle, max_bytes)
        except OSError as exc:
            raise SourceError("fetch", f"{location}: {exc.strerror or exc}") from exc
    # http(s) only (checked above): no file:, ftp: or custom scheme reaches urlopen
    request = urllib.request.Request(location, headers={  # noqa: S310
        "Accept": MEDIA_TYPE, "User-Agent": "Kleidi"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return _bounded(response, max_bytes)
    except HTTPError as exc:
        raise SourceError("not-found" if exc.code == 404 else "fetch",
                          f"{location}: HTTP {exc.code} {exc.reason}") from exc
    except URLError as exc:
        raise SourceError("fetch", f"{location}: {getattr(exc, 'reason', exc)}") from exc
    except (OSError, ValueError) as exc:  # timeouts, resets, bad status lines
        raise SourceError("fetch", f"{location}: {exc}") from exc


def _bounded(stream, max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SourceError("too-large", f"over {max_bytes} bytes")
    return data


def mdq_url(base: str, entity_id: str) -> str:
    """The MDQ request URL of one entity: /entities/{sha1}<hex of the entityID's SHA-1>."""
    digest = hashlib.sha1(entity_id.encode("utf-8")).hexdigest()  # noqa: S324 (MDQ's naming)
    return f"{base.rstrip('/')}/entities/{quote('{sha1}' + digest, safe='')}"


def verify(document: bytes, certificates: list[str], *, max_bytes: int) -> Verified:
    """The document's root, once its signature verified with one of `certificates` (PEM)."""
    try:
        root = hardening.parse(document, max_bytes=max_bytes)
        signature = hardening.signature_of(root)
    except hardening.UnsafeMessage as exc:
        raise SourceError(_REASONS.get(exc.reason, "malformed"), str(exc)) from exc
    if root.tag not in _ROOTS:
        raise SourceError("malformed", f"not SAML metadata: {root.tag}")
    if signature is None:
        raise SourceError("unsigned", "the document carries no signature")
    if not any(crypto.verify_signature(root, signature, key) for key in _keys(certificates)):
        raise SourceError("signature", "does not verify with the pinned certificate")
    return Verified(root, _valid_until(root), _cache_duration(root),
                    hashlib.sha256(document).hexdigest())


def _keys(certificates: list[str]) -> list[xmlsec.Key]:
    return [xmlsec.Key.from_memory(pem.encode("ascii"), xmlsec.KeyFormat.CERT_PEM, None)
            for pem in certificates]


def _valid_until(root) -> datetime:
    value = root.get("validUntil")
    if not value:
        raise SourceError("expired", "the document has no validUntil")
    try:
        valid_until = providers.parse_instant(value, "validUntil")
    except providers.MetadataError as exc:
        raise SourceError("malformed", str(exc)) from exc
    if valid_until <= clock.now():
        raise SourceError("expired", f"validUntil {value} has passed")
    return valid_until


def _cache_duration(root) -> timedelta | None:
    value = root.get("cacheDuration")
    if not value:
        return None
    try:
        sign, parts = parse_duration(value.strip())
    except (ValueError, IndexError):
        return None
    seconds = (parts["tm_year"] * 365 + parts["tm_mon"] * 30 + parts["tm_mday"]) * 86400 \
        + parts["tm_hour"] * 3600 + parts["tm_min"] * 60 + parts["tm_sec"]
    return timedelta(seconds=seconds) if sign == "+" else None


def select(verified: Verified, source: str, authorities=(), categories=()) -> Selection:
    """The usable SPs of a verified document that pass the filters: registered by one of
    `authorities` and carrying one of the entity `categories` (an empty filter passes all)."""
    entities, skipped, filtered = [], [], 0
    for element in providers.sp_elements(verified.root):
        try:
            entity = providers.read_entity(element, source)
        except providers.MetadataError as exc:
            skipped.append(str(exc))
            continue
        if passes(entity.provider, authorities, categories):
            entities.append(entity)
        else:
            filtered += 1
    return Selection(entities, skipped, filtered)


def passes(provider: providers.Provider, authorities, categories) -> bool:
    if authorities and provider.registration_authority not in authorities:
        return False
    return not categories or bool(set(provider.categories) & set(categories))
