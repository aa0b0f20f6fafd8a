"""Tables of the SAML area: registered service providers and their release policies."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base


class ServiceProvider(Base):
    """An SP registered with ``kleidi sp add`` (files in METADATA_DIR need no row)."""

    __tablename__ = "saml_service_provider"

    entity_id: Mapped[str] = mapped_column(sa.String(1024), primary_key=True)
    metadata_xml: Mapped[str] = mapped_column(sa.Text)
    added_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class ReleasePolicy(Base):
    """What the operators approved for one SP (from a file or the database).

    ``attributes`` lists internal attribute names; None means "the defaults of the SP's
    REFEDS entity categories". Nothing outside it is ever released to the SP.
    """

    __tablename__ = "saml_release_policy"

    entity_id: Mapped[str] = mapped_column(sa.String(1024), primary_key=True)
    attributes: Mapped[list | None] = mapped_column(sa.JSON, nullable=True)
    allow_unsolicited: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Both signatures by default; either may be turned off, never both.
    sign_response: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    sign_assertions: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    encrypt_assertions: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    require_signed_requests: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Moment(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite hands back naive ones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class MetadataSource(Base):
    """A federation's metadata, shared by every instance: where it comes from, the pinned
    certificates its signature must verify with, and the state of its last refresh.

    ``kind`` is "aggregate" (a whole signed document, fetched on a schedule; its good entities
    are kept in ``saml_metadata_entity``) or "mdq" (one signed entity at a time, fetched when an
    SP is first met and cached). ``updated_at`` changes when what the IdP uses changes.
    """

    __tablename__ = "saml_metadata_source"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    location: Mapped[str] = mapped_column(sa.String(2048))
    certificates: Mapped[str] = mapped_column(sa.Text)
    refresh_seconds: Mapped[int] = mapped_column(sa.Integer)
    registration_authorities: Mapped[list] = mapped_column(sa.JSON)
    entity_categories: Mapped[list] = mapped_column(sa.JSON)
    added_at: Mapped[datetime] = mapped_column(Moment)
    updated_at: Mapped[datetime] = mapped_column(Moment)
    next_refresh_at: Mapped[datetime] = mapped_column(Moment)
    last_attempt_at: Mapped[datetime | None] = mapped_column(Moment)
    last_success_at: Mapped[datetime | None] = mapped_column(Moment)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    valid_until: Mapped[datetime | None] = mapped_column(Moment)
    document_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    entity_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(sa.Integer, default=0)


class MetadataEntity(Base):
    """One SP of a source's last good copy, in the JSON form of ``providers.record``.

    ``expires_at`` is set for entities cached from an MDQ source (cacheDuration): after it the
    entity is fetched again, and used as it is only while the service does not answer and
    ``valid_until`` has not passed.
    """

    __tablename__ = "saml_metadata_entity"

    source: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("saml_metadata_source.name", ondelete="CASCADE"),
        primary_key=True)
    entity_id: Mapped[str] = mapped_column(sa.String(1024), primary_key=True)
    data: Mapped[str] = mapped_column(sa.Text)
    valid_until: Mapped[datetime | None] = mapped_column(Moment)
    expires_at: Mapped[datetime | None] = mapped_column(Moment)
