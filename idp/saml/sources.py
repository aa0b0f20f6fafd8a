"""Federation metadata sources: adding, changing and removing them, and their state.

A source (where its metadata comes from, the certificates pinned for its signature, its
filters) and its last good copy live in the database, shared by every instance. Refreshing:
``idp.saml.refresh``. The CLI (``kleidi metadata``) and any operator page call these
functions; every change is audited.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import current_app

from idp import audit, clock, db
from idp.saml.federation import split_certificates
from idp.saml.models import MetadataEntity, MetadataSource

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
KINDS = ("aggregate", "mdq")


class SourceSettingsError(ValueError):
    """A source that cannot be added as asked; the message says why."""


def add(name: str, kind: str, location: str, certificates: list[str], *,
        refresh_seconds: int | None = None, authorities=(), categories=(),
        replace: bool = False, actor: str = "cli") -> MetadataSource:
    """Add (or with `replace`, change) a source; it is due for a refresh at once. The caller
    commits. Changing a source keeps its last good copy until the next refresh succeeds."""
    _check(name, kind, location, certificates, refresh_seconds)
    session, now = db.session(), clock.now()
    row = session.get(MetadataSource, name)
    if row is not None and not replace:
        raise SourceSettingsError(f"a source named {name} exists (--replace changes it)")
    if row is None:
        row = MetadataSource(name=name, added_at=now, entity_count=0, skipped_count=0)
        session.add(row)
    row.kind, row.location, row.certificates = kind, location, "".join(certificates)
    row.refresh_seconds = refresh_seconds or current_app.config["SAML_METADATA_REFRESH_SECONDS"]
    row.registration_authorities, row.entity_categories = list(authorities), list(categories)
    row.updated_at, row.next_refresh_at = now, now
    row.document_sha256 = None  # new filters or certificates: read the same document again
    audit.record("saml.metadata_source_set", actor=actor, source=name, kind=kind,
                 location=location, refresh_seconds=row.refresh_seconds,
                 registration_authorities=row.registration_authorities,
                 entity_categories=row.entity_categories,
                 certificates=[_fingerprint(pem) for pem in certificates])
    return row


def remove(name: str, actor: str = "cli") -> bool:
    """Forget a source and its SPs; True if there was one. The caller commits."""
    session = db.session()
    session.execute(sa.delete(MetadataEntity).where(MetadataEntity.source == name))
    deleted = session.execute(sa.delete(MetadataSource).where(MetadataSource.name == name))
    if deleted.rowcount:
        audit.record("saml.metadata_source_removed", actor=actor, source=name)
    return bool(deleted.rowcount)


def _check(name, kind, location, certificates, refresh_seconds) -> None:
    if not NAME.fullmatch(name):
        raise SourceSettingsError("a source name is 1-64 of a-z, 0-9, '.', '_', '-'")
    if kind not in KINDS:
        raise SourceSettingsError(f"unknown kind of source {kind}")
    if kind == "mdq" and not location.startswith(("https://", "http://")):
        raise SourceSettingsError("an MDQ source needs an http(s) URL")
    if refresh_seconds is not None and refresh_seconds < 60:
        raise SourceSettingsError("refresh at most once a minute")
    if not certificates:
        raise SourceSettingsError("a source needs the certificate its signature is checked with")
    for pem in certificates:
        check_certificate(pem)


def check_certificate(pem: str) -> None:
    """One PEM certificate with an RSA key of at least 2048 bits or an EC key."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SourceSettingsError(f"not a PEM certificate: {exc}") from None
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise SourceSettingsError(f"the certificate's RSA key has {key.key_size} bits (< 2048)")
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise SourceSettingsError("the certificate's key is neither RSA nor EC")


def _fingerprint(pem: str) -> str:
    """The SHA-256 fingerprint of a certificate, as operators compare it with a federation's."""
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


# -- Status ------------------------------------------------------------------------------------


def status() -> list[dict]:
    """Every source and the state of its last good copy (JSON-ready)."""
    now, found = clock.now(), []
    for row in db.session().scalars(sa.select(MetadataSource).order_by(MetadataSource.name)):
        expired = row.valid_until is not None and row.valid_until <= now
        found.append({
            "name": row.name, "kind": row.kind, "location": row.location,
            "refresh_seconds": row.refresh_seconds,
            "registration_authorities": row.registration_authorities,
            "entity_categories": row.entity_categories,
            "certificates": [_fingerprint(p) for p in split_certificates(row.certificates)],
            "entities": _entity_count(row), "skipped": row.skipped_count,
            "valid_until": _iso(row.valid_until), "expired": expired,
            "last_success_at": _iso(row.last_success_at),
            "last_attempt_at": _iso(row.last_attempt_at), "last_error": row.last_error,
            "next_refresh_at": _iso(row.next_refresh_at),
            "in_use": row.kind == "mdq" or (row.last_success_at is not None and not expired),
        })
    return found


def _entity_count(row: MetadataSource) -> int:
    if row.kind == "aggregate":
        return row.entity_count
    return db.session().scalar(sa.select(sa.func.count()).select_from(MetadataEntity)
                               .where(MetadataEntity.source == row.name))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
