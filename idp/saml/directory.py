"""The directory of service providers: one index by entityID, built outside the request path.

SPs come from four places, in this order of precedence: registrations in the database
(``kleidi sp add``), metadata files in METADATA_DIR, federation aggregates (the verified
entities of ``saml_metadata_source``, loaded as JSON without any XML), and MDQ sources, asked
for one entity when it is first met (``idp.saml.mdq``). The first three make an
:class:`Index`: a dict from entityID to an immutable Provider, with the release policies
applied. A look-up is one dict access.

A server process builds the index when the app is created (``prepare``: before gunicorn forks
its workers with ``--preload``, so they share it) and then keeps it current from a background
thread, which rebuilds only the parts whose version changed and swaps the new index in with
one assignment: a request never waits for a parse. Elsewhere (commands, tests) the index is
built on first use and checked at most every SAML_METADATA_CHECK_SECONDS (0: on every use).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from idp import clock, db
from idp.saml import mdq, providers
from idp.saml.models import MetadataEntity, MetadataSource, ReleasePolicy, ServiceProvider
from idp.saml.providers import Provider

log = logging.getLogger(__name__)
EXTENSION = "kleidi.saml.directory"


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


class Directory:
    """The current Index of one app, and how it is kept current."""

    def __init__(self, app: Flask):
        self.app = app
        self.index: Index | None = None
        self.background = False
        self.checked_at = 0.0
        self._lock = threading.Lock()
        self._watcher_pid: int | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    def current(self) -> Index:
        """The index to answer from: never built here once the server prepared it."""
        index = self.index
        if index is not None and self.background:
            if self._watcher_pid != os.getpid():
                self._start_watcher()
            return index
        interval = self.app.config["SAML_METADATA_CHECK_SECONDS"]
        if index is None or time.monotonic() - self.checked_at >= interval:
            self.refresh()
        return self.index

    def refresh(self) -> bool:
        """Rebuild what changed since the current index (at once); True if anything did."""
        with self._lock:
            self.checked_at = time.monotonic()
            versions = _versions()
            index = self.index
            if index is not None and not _outdated(index, versions):
                return False
            self.index = build(versions, index)
            return True

    def stop(self) -> None:
        """End the background thread and wait for it (tests; a server process just exits)."""
        self._stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=30)

    def _start_watcher(self) -> None:
        with self._lock:
            if self._watcher_pid == os.getpid():
                return
            self._watcher_pid = os.getpid()
            self._watcher = threading.Thread(target=_watch, args=(weakref.ref(self), self._stop),
                                             name="saml-directory", daemon=True)
            self._watcher.start()


def _watch(directory_ref, stop: threading.Event) -> None:
    """Keep the directory current until its app is gone or `stop` is set."""
    while True:
        directory = directory_ref()
        if directory is None:
            return
        interval = max(directory.app.config["SAML_METADATA_CHECK_SECONDS"], 0.1)
        app = directory.app
        del directory  # the thread must not keep the app alive while it waits
        if stop.wait(interval):
            return
        with app.app_context():
            try:
                if current().refresh():
                    log.info("SAML directory rebuilt", extra={"sps": len(current().index.providers)})
            except Exception:  # noqa: BLE001 - keep serving the last index, try again later
                log.exception("SAML directory rebuild failed; the previous one stays in use")


def current() -> Directory:
    """The directory of the current app."""
    directory = current_app.extensions.get(EXTENSION)
    if directory is None:
        directory = current_app.extensions.setdefault(EXTENSION, Directory(current_app))
    return directory


def find(entity_id: str | None) -> Provider | None:
    """The SP with this entityID, or None (an MDQ source is asked if the index lacks it)."""
    index = current().current()
    provider = index.providers.get(entity_id or "")
    if provider is None and index.mdq_sources and entity_id:
        provider = mdq.find(entity_id, index.mdq_sources)
        if provider is not None:
            provider = _with_policy(provider, index.policies.entries.get(entity_id))
    return provider


def providers_now() -> list[Provider]:
    """Every SP of the index, by entityID (MDQ entities not yet met are not in it)."""
    return sorted(current().current().providers.values(), key=lambda p: p.entity_id)


#: Indexes built in this process, by database and metadata folder: a worker forked from a
#: process that prepared the same directory starts from its index (shared copy-on-write).
_BUILT: dict[tuple, Index] = {}


def prepare(app: Flask) -> None:
    """Build the index now, in a server process before it serves, then keep it current in
    the background. A worker forked from a process that prepared the same directory (gunicorn
    ``--preload``, or a server that builds the app once before starting its workers) starts
    from that index and reads only what changed since. The database connections opened here
    are closed, so that forked processes open their own."""
    directory = app.extensions.setdefault(EXTENSION, Directory(app))
    key = (db.database_url(app.config), app.config["METADATA_DIR"])
    directory.index = directory.index or _BUILT.get(key)
    try:
        with app.app_context():
            directory.refresh()
    except sa.exc.SQLAlchemyError:  # e.g. not migrated yet: /readyz says so
        log.exception("SAML directory not built at start; it will be on first use")
        return
    finally:
        with app.app_context():  # once the session gave its connection back
            db.dispose()
    _BUILT[key] = directory.index
    directory.background = True


# -- Versions: what the watcher compares ---------------------------------------------------


def _versions() -> dict:
    session = db.session()
    tables = {name: tuple(session.execute(sa.select(sa.func.count(), sa.func.max(t.updated_at)))
                          .one()) for name, t in (("registered", ServiceProvider),
                                                  ("policies", ReleasePolicy))}
    sources = session.execute(sa.select(
        MetadataSource.name, MetadataSource.kind, MetadataSource.updated_at,
        MetadataSource.valid_until).order_by(MetadataSource.name)).all()
    return {"files": _file_versions(), **tables, "sources": tuple(tuple(s) for s in sources)}


def _outdated(index: Index, versions: dict) -> bool:
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
            merged[entity_id] = _with_policy(provider, policy)
    return merged, expiry


def _with_policy(provider: Provider, policy: providers.Policy | None) -> Provider:
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
        encrypt_assertions=row.encrypt_assertions,
        require_signed_requests=row.require_signed_requests,
    ) for row in db.session().scalars(sa.select(ReleasePolicy))}


def _mdq_sources(sources: tuple) -> tuple:
    names = [s[0] for s in sources if s[1] == "mdq"]
    if not names:
        return ()
    rows = db.session().scalars(sa.select(MetadataSource).where(MetadataSource.name.in_(names))
                                .order_by(MetadataSource.name))
    return tuple(mdq.Service.of(row) for row in rows)
