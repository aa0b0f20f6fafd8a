"""MDQ sources: one SP's signed metadata, asked for when the SP is first met, then cached.

For federations too large to load whole. An SP that is in no loaded place is asked of each MDQ
source in turn (``GET <base>/entities/{sha1}<hex>``); the answer is verified like an
aggregate (``idp.saml.federation``) and must describe exactly the entity asked for. A good
answer is kept in the database, shared by every instance, until its cacheDuration (at most
SAML_MDQ_MAX_CACHE_SECONDS, never past its validUntil), and in this process as long. When the
service fails, a kept answer still inside its validUntil is used; otherwise the person sees
SAML-017. Unknown entityIDs are remembered for SAML_MDQ_NEGATIVE_SECONDS, and a process asks
at most SAML_MDQ_FETCHES_PER_MINUTE times a minute, so forged issuers cannot turn the IdP
into a flood against the federation's service.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from idp import clock, db
from idp.errors import KleidiError
from idp.saml import federation, providers
from idp.saml.models import MetadataEntity, MetadataSource

log = logging.getLogger(__name__)
EXTENSION = "kleidi.saml.mdq"


@dataclass(frozen=True)
class Service:
    """An MDQ source as the directory keeps it."""

    name: str
    base_url: str
    certificates: tuple[str, ...]
    authorities: tuple[str, ...]
    categories: tuple[str, ...]

    @classmethod
    def of(cls, row: MetadataSource) -> Service:
        return cls(row.name, row.location, tuple(federation.split_certificates(row.certificates)),
                   tuple(row.registration_authorities), tuple(row.entity_categories))


class Memo:
    """What this process learnt from MDQ sources: entity -> (Provider or None, until when)."""

    def __init__(self):
        self.entries: dict[tuple[str, str], tuple[providers.Provider | None, float]] = {}
        self.fetches: list[float] = []
        self.lock = threading.Lock()

    def get(self, key):
        entry = self.entries.get(key)
        if entry is None or entry[1] <= _now():
            return False, None
        return True, entry[0]

    def put(self, key, provider, seconds: float) -> None:
        now = _now()
        if len(self.entries) > 10_000:
            self.entries = {k: v for k, v in self.entries.items() if v[1] > now}
        self.entries[key] = (provider, now + max(seconds, 0))

    def may_fetch(self, per_minute: int) -> bool:
        with self.lock:
            now = _now()
            self.fetches = [t for t in self.fetches if now - t < 60]
            if len(self.fetches) >= per_minute:
                return False
            self.fetches.append(now)
            return True


def _now() -> float:
    return clock.now().timestamp()


def _memo() -> Memo:
    return current_app.extensions.setdefault(EXTENSION, Memo())


def find(entity_id: str, services: tuple[Service, ...]) -> providers.Provider | None:
    """The SP from the first MDQ source that knows it, or None; KleidiError SAML-017 when a
    source could not answer and nothing usable is kept."""
    for service in services:
        known, provider = _memo().get((service.name, entity_id))
        if not known:
            provider = _look_up(service, entity_id)
        if provider is not None:
            return provider
    return None


def _look_up(service: Service, entity_id: str) -> providers.Provider | None:
    config, key = current_app.config, (service.name, entity_id)
    kept = db.session().get(MetadataEntity, key)
    if kept is not None and kept.expires_at is not None and kept.expires_at > clock.now():
        provider = _from_row(kept)
        _memo().put(key, provider, (kept.expires_at - clock.now()).total_seconds())
        return provider
    if not _memo().may_fetch(config["SAML_MDQ_FETCHES_PER_MINUTE"]):
        log.warning("MDQ fetch limit reached", extra={"source": service.name})
        return _fallback(service, entity_id, kept, "too many look-ups this minute")
    try:
        provider, seconds = _fetch(service, entity_id)
    except federation.SourceError as exc:
        if exc.reason == "not-found":
            _memo().put(key, None, config["SAML_MDQ_NEGATIVE_SECONDS"])
            return None
        _record_attempt(service.name, error=str(exc))
        return _fallback(service, entity_id, kept, str(exc))
    _record_attempt(service.name, error=None)
    _memo().put(key, provider, seconds if provider else config["SAML_MDQ_NEGATIVE_SECONDS"])
    return provider


def _fetch(service: Service, entity_id: str) -> tuple[providers.Provider | None, float]:
    """Fetch, verify and keep one entity; (its Provider or None if unusable, seconds to cache)."""
    config = current_app.config
    document = federation.fetch(federation.mdq_url(service.base_url, entity_id),
                                max_bytes=config["SAML_MDQ_MAX_BYTES"],
                                timeout=config["SAML_MDQ_TIMEOUT_SECONDS"])
    verified = federation.verify(document, list(service.certificates),
                                 max_bytes=config["SAML_MDQ_MAX_BYTES"])
    selection = federation.select(verified, service.name, service.authorities, service.categories)
    found = [e.provider for e in selection.entities if e.provider.entity_id == entity_id]
    if not found:
        return None, 0
    limit = timedelta(seconds=config["SAML_MDQ_MAX_CACHE_SECONDS"])
    lifetime = min(verified.cache_duration or limit, limit)
    expires_at = min(clock.now() + lifetime, verified.valid_until)
    _keep(service.name, found[0], expires_at)
    return found[0], (expires_at - clock.now()).total_seconds()


def _fallback(service, entity_id, kept, reason: str) -> providers.Provider:
    """The kept copy while its validUntil holds; otherwise the person learns the service is
    out of reach."""
    if kept is not None and (kept.valid_until is None or kept.valid_until > clock.now()):
        log.warning("MDQ source unavailable, using the kept copy",
                    extra={"source": service.name, "entity": entity_id, "reason": reason})
        provider = _from_row(kept)
        _memo().put((service.name, entity_id), provider,
                    current_app.config["SAML_MDQ_NEGATIVE_SECONDS"])
        return provider
    log.error("MDQ source unavailable", extra={"source": service.name, "entity": entity_id,
                                               "reason": reason})
    raise KleidiError("SAML-017", issuer=entity_id, source=service.name, reason=reason)


def _from_row(row: MetadataEntity) -> providers.Provider:
    return providers.from_record(row.entity_id, row.source, json.loads(row.data), {})


def _keep(source: str, provider: providers.Provider, expires_at) -> None:
    """Store the entity for every instance, in a transaction of its own (not the request's)."""
    row = {"source": source, "entity_id": provider.entity_id,
           "data": json.dumps(providers.record(provider)), "valid_until": provider.valid_until,
           "expires_at": expires_at}
    table = MetadataEntity.__table__
    with db.engine().begin() as connection:
        connection.execute(table.delete().where(table.c.source == source,
                                                table.c.entity_id == provider.entity_id))
        try:
            with connection.begin_nested():
                connection.execute(table.insert().values(**row))
        except sa.exc.IntegrityError:
            pass  # another process kept the same answer at the same moment


def _record_attempt(source: str, error: str | None) -> None:
    """The source's last attempt and error, for ``kleidi metadata status`` (updated_at is left
    alone: nothing the directory loads has changed)."""
    now = clock.now()
    values = {"last_attempt_at": now, "last_error": error}
    if error is None:
        values["last_success_at"] = now
    table = MetadataSource.__table__
    with db.engine().begin() as connection:
        connection.execute(table.update().where(table.c.name == source).values(**values))
