"""Tables of the OpenID provider: registered clients and long-lived grants.

Short-lived artifacts (authorization codes, access tokens) live in the store
with a TTL; what must survive a restart and be revocable as a whole lives here:

* ``OidcClient``: a registered relying party (secrets only as a hash);
* ``OidcGrant``: one authorization granted at a code exchange, the family every
  refresh token descends from; revoking it kills all of them;
* ``OidcRefreshToken``: one generation of a family's refresh token (hash only).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from idp import clock
from idp.db import Base

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


class OidcClient(Base):
    """A relying party registered by the operators."""

    __tablename__ = "oidc_client"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: SHA-256 of the secret: secrets are 256-bit random, so a slow hash adds nothing.
    secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: The token endpoint authentication method registered (RFC 7591's default: basic).
    auth_method: Mapped[str] = mapped_column(sa.String(30))
    #: Only ``auth_method`` is accepted. Otherwise a client with a secret may send it either
    #: way, HTTP Basic or the form body (openid-client, for one, posts it by default).
    strict_auth_method: Mapped[bool] = mapped_column(default=False)
    redirect_uris: Mapped[list] = mapped_column(sa.JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: The scopes the operators approved for this client; claims follow from them.
    scopes: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: The pairwise sector: clients sharing it see the same ``sub``.
    sector: Mapped[str] = mapped_column(sa.String(255))
    #: Public keys for private_key_jwt (a JWKS document).
    jwks: Mapped[dict | None] = mapped_column(sa.JSON)
    id_token_alg: Mapped[str] = mapped_column(sa.String(10), default="RS256")
    refresh_tokens: Mapped[bool] = mapped_column(default=True)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(sa.String(500))
    #: The internal attributes approved for this client (through the relying-party review);
    #: None: every claim of its approved scopes.
    released_attributes: Mapped[list | None] = mapped_column(sa.JSON)
    #: Where the client publishes its keys for private_key_jwt (instead of ``jwks``).
    jwks_uri: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=clock.now)
    __table_args__ = (
        sa.CheckConstraint(f"auth_method IN {AUTH_METHODS}", name="auth_method"),
    )


class OidcGrant(Base):
    """What one code exchange granted; the family of its refresh tokens."""

    __tablename__ = "oidc_grant"
    id: Mapped[str] = mapped_column(sa.String(43), primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(500))
    #: The account's session epoch at issue: a password change moves it and ends the grant.
    account_epoch: Mapped[int]
    sid: Mapped[str | None] = mapped_column(sa.String(43), index=True)
    auth_time: Mapped[int | None]
    acr: Mapped[str | None] = mapped_column(sa.String(100))
    amr: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    #: Absolute end of the family, however often it is refreshed.
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class OidcRefreshToken(Base):
    """One refresh token of a family; used once, then replaced."""

    __tablename__ = "oidc_refresh_token"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        sa.ForeignKey("oidc_grant.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
