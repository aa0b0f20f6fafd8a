"""The directory of service providers: one index by entityID, built outside the request path.

SPs come from four places, in this order of precedence: registrations in the database
(``kleidi sp add``), metadata files in METADATA_DIR, federation aggregates (the verified
entities of ``saml_metadata_source``, loaded as JSON without any XML), and MDQ sources, asked
for one entity when it is first met (``idp.saml.mdq``). The first three make an
:class:`Index`: a dict from entityID to an immutable Provider, with the release policies
applied (``idp.saml.index``). A look-up is one dict access.

A server process builds the index when the app is created (``prepare``: each worker of
``kleidi serve``, before it accepts a connection) and then keeps it current from a background
thread, which rebuilds only the parts whose version changed and swaps the new index in with
one assignment: a request never waits for a parse. Elsewhere (commands, tests) the index is
built on first use and checked at most every SAML_METADATA_CHECK_SECONDS (0: on every use).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref

import sqlalchemy as sa
from flask import Flask, current_app

from idp import db, outages
from idp.saml import index as sp_index
from idp.saml import mdq
from idp.saml.index import Index
from idp.saml.providers import Provider

log = logging.getLogger(__name__)
EXTENSION = "kleidi.saml.directory"


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
            found = sp_index.versions()
            current = self.index
            if current is not None and not sp_index.outdated(current, found):
                return False
            self.index = sp_index.build(found, current)
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
            except Exception as error:  # noqa: BLE001 - keep serving the last index, try again later
                dependency = outages.dependency_of(error)
                if dependency is None:
                    log.exception("SAML directory rebuild failed; the previous one stays in use")
                else:  # an outage /readyz reports: one line, not a traceback every second
                    log.warning("SAML directory not checked: the %s is unavailable; the "
                                "previous one stays in use", dependency)


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
            provider = sp_index.with_policy(provider, index.policies.entries.get(entity_id))
    return provider


def display_name(entity_id: str, lang: str) -> str | None:
    """The SP's mdui:DisplayName in ``lang`` (else English, else any), for the pages; only
    what the index holds (a page never waits for an MDQ service)."""
    provider = current().current().providers.get(entity_id)
    if provider is None or not provider.names:
        return None
    return provider.names.get(lang) or provider.names.get("en") or next(iter(provider.names.values()))


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


