"""The index of SPs by entityID, and how it is built from the places SPs come from.

An :class:`Index` is immutable: building one reads again only the places (``Part``) whose
version changed since the previous index, and reuses the others as they are. Release policies
are applied to the SPs they name. Kept current by ``idp.saml.directory``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from idp import clock, db
from idp.saml import mdq, providers
from idp.saml.models import MetadataEntity, MetadataSource, ReleasePolicy, ServiceProvider
from idp.saml.providers import Provider

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    """The SPs of one place, and the version of that place they were read at."""

    version: object
    entries: dict


@dataclass(frozen=True)
class Index:
    """Every SP known without asking an MDQ service, by entityID, policies applied."""

    providers: dict[str, Provider]
    parts: dict[str, Part]
    policies: Part
    mdq_sources: tuple = ()
    expires_at: datetime | None = None
    built_at: float = field(default_factory=time.monotonic)


# -- Versions: what the watcher compares ---------------------------------------------------


def versions() -> dict:
    session = db.session()
    tables = {name: tuple(session.execute(sa.select(sa.func.count(), sa.func.max(t.updated_at)))
                          .one()) for name, t in (("registered", ServiceProvider),
                                                  ("policies", ReleasePolicy))}
    sources = session.execute(sa.select(
        MetadataSource.name, MetadataSource.kind, MetadataSource.updated_at,
        MetadataSource.valid_until).order_by(MetadataSource.name)).all()
    return {"files": _file_versions(), **tables, "sources": tuple(tuple(s) for s in sources)}


def outdated(index: Index, versions: dict) -> bool:
    if index.expires_at is not None and index.expires_at <= clock.now():
        return True
    known = {name: part.version for name, part in index.parts.items()}
    return (known.get("files") != versions["files"]
            or known.get("registered") != versions["registered"]
            or index.policies.version != versions["policies"]
            or known.get("sources") != versions["sources"])


def _metadata_files() -> list[Path]:
    folder = Path(current_app.config["METADATA_DIR"])
    return sorted(folder.glob("*.xml")) if folder.is_dir() else []


def _file_versions() -> tuple:
    found = []
    for path in _metadata_files():
        stat = path.stat()
        found.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(found)


# -- Building: only the parts whose version changed are read again -------------------------


def build(versions: dict, previous: Index | None) -> Index:
    """A new Index for `versions`, reusing the parts of `previous` that did not change."""
    old = previous.parts if previous is not None else {}
    parts = {"files": _reuse(old.get("files"), versions["files"], _read_files),
             "registered": _reuse(old.get("registered"), versions["registered"], _read_registered),
             "sources": Part(versions["sources"], {})}
    now = clock.now()  # a copy past its validUntil is not used, whatever the federation says
    aggregates = [s for s in versions["sources"]
                  if s[1] == "aggregate" and s[3] is not None and s[3] > now]
    for name, _kind, updated_at, valid_until in aggregates:
        parts[f"source:{name}"] = _reuse(old.get(f"source:{name}"), (updated_at, valid_until),
                                         lambda name=name: _read_source(name))
    policies = _reuse(previous.policies if previous else None, versions["policies"],
                      _read_policies)
    merged, expiry = _merge(parts, [s[0] for s in aggregates], policies.entries)
    for valid_until in (s[3] for s in aggregates):
        expiry = min(expiry or valid_until, valid_until)
    return Index(providers=merged, parts=parts, policies=policies,
                 mdq_sources=_mdq_sources(versions["sources"]), expires_at=expiry)


def _reuse(part: Part | None, version, read) -> Part:
    if part is not None and part.version == version:
        return part
    return Part(version, read())


def _merge(parts: dict[str, Part], aggregates: list[str], policies: dict):
    """Registrations win over files, files over federations, an earlier source over a later."""
    now, merged = clock.now(), {}
    layers = [parts[f"source:{name}"] for name in reversed(aggregates)]
    for part in [*layers, parts["files"], parts["registered"]]:
        merged.update(part.entries)
    expiry = None
    for entity_id, provider in list(merged.items()):
        if provider.valid_until is not None:
            if provider.valid_until <= now:
                del merged[entity_id]
                continue
            expiry = min(expiry or provider.valid_until, provider.valid_until)
        policy = policies.get(entity_id)
        if policy is not None:
            merged[entity_id] = with_policy(provider, policy)
    return merged, expiry


def with_policy(provider: Provider, policy: providers.Policy | None) -> Provider:
    return provider if policy is None else replace(provider, policy=policy)


def _read_files() -> dict[str, Provider]:
    found: dict[str, Provider] = {}
    for path in _metadata_files():
        try:
            for provider in providers.parse_metadata(path.read_bytes(), path.name):
                found.setdefault(provider.entity_id, provider)
        except providers.MetadataError as exc:
            log.error("SAML metadata skipped: %s", exc)
    return found


def _read_registered() -> dict[str, Provider]:
    found: dict[str, Provider] = {}
    for row in db.session().execute(sa.select(ServiceProvider.metadata_xml)):
        try:
            for provider in providers.parse_metadata(row.metadata_xml, "database"):
                found[provider.entity_id] = provider
        except providers.MetadataError as exc:
            log.error("SAML metadata skipped: %s", exc)
    return found


def _read_source(name: str) -> dict[str, Provider]:
    """The SPs of one aggregate's last good copy (nothing if that copy has expired)."""
    rows = db.session().execute(sa.select(MetadataEntity.entity_id, MetadataEntity.data)
                                .where(MetadataEntity.source == name))
    certificates: dict[str, str] = {}
    return {row.entity_id: providers.from_record(row.entity_id, name, json.loads(row.data),
                                                 certificates) for row in rows}


def _read_policies() -> dict[str, providers.Policy]:
    return {row.entity_id: providers.Policy(
        attributes=frozenset(row.attributes) if row.attributes is not None else None,
        allow_unsolicited=row.allow_unsolicited, sign_response=row.sign_response,
        sign_assertions=row.sign_assertions, encrypt_assertions=row.encrypt_assertions,
        require_signed_requests=row.require_signed_requests,
    ) for row in db.session().scalars(sa.select(ReleasePolicy))}


def _mdq_sources(sources: tuple) -> tuple:
    names = [s[0] for s in sources if s[1] == "mdq"]
    if not names:
        return ()
    rows = db.session().scalars(sa.select(MetadataSource).where(MetadataSource.name.in_(names))
                                .order_by(MetadataSource.name))
    return tuple(mdq.Service.of(row) for row in rows)
