"""Refreshing federation metadata sources: fetch, verify, and only then replace the SPs.

A refresh of an aggregate fetches it, verifies it (``idp.saml.federation``: signature with a
pinned certificate first, then validUntil) and replaces the source's SPs in one transaction
with the source's new state; a refresh that fails for any reason (unreachable, tampered,
expired, unreadable) changes no SP, records the error and is tried again after
SAML_METADATA_RETRY_SECONDS. ``kleidi worker`` refreshes each source when it is due, in a
thread of its own; web processes pick up the new copy through ``idp.saml.directory``.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from idp import audit, clock, db
from idp.saml import federation, providers
from idp.saml.models import MetadataEntity, MetadataSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one refresh did."""

    source: str
    ok: bool
    kind: str = "aggregate"
    changed: bool = False
    entities: int = 0
    skipped: int = 0
    filtered: int = 0
    valid_until: str | None = None
    error: str | None = None


def refresh(name: str | None = None, actor: str = "cli") -> list[Outcome]:
    """Refresh one aggregate source, or every one; each commits (or records its error) alone.
    For an MDQ source, entities past their validUntil are forgotten."""
    query = sa.select(MetadataSource).order_by(MetadataSource.name)
    if name is not None:
        query = query.where(MetadataSource.name == name)
    return [refresh_source(row.name, actor) for row in db.session().scalars(query).all()]


def refresh_due(actor: str = "worker") -> list[Outcome]:
    """Refresh every source whose time has come. Several workers may run this at once: each
    source is claimed by moving its next refresh forward in one statement, and only the
    worker whose statement changed the row refreshes it."""
    now, outcomes = clock.now(), []
    due = db.session().scalars(sa.select(MetadataSource.name)
                               .where(MetadataSource.next_refresh_at <= now)).all()
    for name in due:
        if _claim(name, now):
            outcomes.append(refresh_source(name, actor))
    return outcomes


def _claim(name: str, now: datetime) -> bool:
    table = MetadataSource.__table__
    later = now + timedelta(seconds=current_app.config["SAML_METADATA_RETRY_SECONDS"])
    with db.engine().begin() as connection:
        claimed = connection.execute(
            table.update().where(table.c.name == name, table.c.next_refresh_at <= now)
            .values(next_refresh_at=later)
            .execution_options(preserve_rowcount=True)).rowcount
    return claimed == 1


def refresh_source(name: str, actor: str) -> Outcome:
    """Fetch, verify and keep one source's copy; on failure keep the last good one."""
    session = db.session()
    row = session.get(MetadataSource, name)
    if row is None:  # removed meanwhile
        return Outcome(name, False, error="no such source")
    try:
        outcome = _forget_expired(row) if row.kind == "mdq" else _refresh_aggregate(row)
    except federation.SourceError as exc:
        session.rollback()
        row = session.get(MetadataSource, name)
        outcome = _failed(row, str(exc))
    audit.record("saml.metadata_refreshed", actor=actor, **{
        k: v for k, v in asdict(outcome).items() if v is not None})
    session.commit()
    return outcome


def _refresh_aggregate(row: MetadataSource) -> Outcome:
    config, now = current_app.config, clock.now()
    document = federation.fetch(row.location, max_bytes=config["SAML_METADATA_SOURCE_MAX_BYTES"],
                                timeout=config["SAML_METADATA_FETCH_TIMEOUT_SECONDS"])
    verified = federation.verify(document, federation.split_certificates(row.certificates),
                                 max_bytes=config["SAML_METADATA_SOURCE_MAX_BYTES"])
    row.last_attempt_at = row.last_success_at = now
    row.last_error = None
    row.next_refresh_at = now + timedelta(seconds=row.refresh_seconds)
    if verified.sha256 == row.document_sha256 and row.valid_until == verified.valid_until:
        return Outcome(row.name, True, changed=False, entities=row.entity_count,
                       skipped=row.skipped_count, valid_until=verified.valid_until.isoformat())
    selection = federation.select(verified, row.name, row.registration_authorities,
                                  row.entity_categories)
    _replace_entities(row.name, selection.entities)
    row.valid_until, row.document_sha256, row.updated_at = \
        verified.valid_until, verified.sha256, now
    row.entity_count, row.skipped_count = len(selection.entities), len(selection.skipped)
    for reason in selection.skipped[:20]:
        log.warning("SP left out of %s: %s", row.name, reason)
    return Outcome(row.name, True, changed=True, entities=len(selection.entities),
                   skipped=len(selection.skipped), filtered=selection.filtered,
                   valid_until=verified.valid_until.isoformat())


def _replace_entities(name: str, entities: list[providers.Entity]) -> None:
    session = db.session()
    session.execute(sa.delete(MetadataEntity).where(MetadataEntity.source == name))
    rows = [{"source": name, "entity_id": e.provider.entity_id,
             "data": json.dumps(providers.record(e.provider)),
             "valid_until": e.provider.valid_until, "expires_at": None} for e in entities]
    if rows:
        session.execute(sa.insert(MetadataEntity), _unique(rows))


def _unique(rows: list[dict]) -> list[dict]:
    """The first of several entities with one entityID (a federation error) is kept."""
    seen: dict[str, dict] = {}
    for row in rows:
        seen.setdefault(row["entity_id"], row)
    return list(seen.values())


def _failed(row: MetadataSource, error: str) -> Outcome:
    now = clock.now()
    row.last_attempt_at, row.last_error = now, error
    retry = min(row.refresh_seconds, current_app.config["SAML_METADATA_RETRY_SECONDS"])
    row.next_refresh_at = now + timedelta(seconds=retry)
    log.error("metadata refresh failed; the last good copy stays in use",
              extra={"source": row.name, "error": error})
    return Outcome(row.name, False, entities=row.entity_count, skipped=row.skipped_count,
                   valid_until=row.valid_until.isoformat() if row.valid_until else None,
                   error=error)


def _forget_expired(row: MetadataSource) -> Outcome:
    now = clock.now()
    db.session().execute(sa.delete(MetadataEntity).where(
        MetadataEntity.source == row.name, MetadataEntity.valid_until <= now))
    row.next_refresh_at = now + timedelta(seconds=row.refresh_seconds)
    count = db.session().scalar(sa.select(sa.func.count()).select_from(MetadataEntity)
                                .where(MetadataEntity.source == row.name))
    return Outcome(row.name, True, "mdq", entities=count)


def start_due_refreshes() -> None:
    """``kleidi worker``'s housekeeping: refresh the sources that are due in a thread of its
    own (a large aggregate takes seconds, and the outbox must not wait for it)."""
    app = current_app._get_current_object()
    running = app.extensions.get("kleidi.saml.refreshing")
    if running is not None and running.is_alive():
        return
    thread = threading.Thread(target=_refresh_due_in, args=(app,), name="metadata-refresh",
                              daemon=True)
    app.extensions["kleidi.saml.refreshing"] = thread
    thread.start()


def _refresh_due_in(app) -> None:
    with app.app_context():
        try:
            refresh_due()
        except Exception:  # noqa: BLE001 - the next round tries again
            log.exception("scheduled metadata refresh failed")
