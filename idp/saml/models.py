"""Tables of the SAML area: registered service providers and their release policies."""

from __future__ import annotations

from datetime import datetime

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
