"""OIDC provider: clients, grants (refresh-token families), refresh tokens.

Revision ID: oidc_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "oidc_0001"
down_revision = "0001_foundations"
branch_labels = ("oidc",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "oidc_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("auth_method", sa.String(30), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("sector", sa.String(255), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("id_token_alg", sa.String(10), nullable=False),
        sa.Column("refresh_tokens", sa.Boolean(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(500), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint(
            "auth_method IN ('client_secret_basic', 'client_secret_post', "
            "'private_key_jwt', 'none')", name=op.f("ck_oidc_client_auth_method")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oidc_client_client_id")),
    )
    op.create_table(
        "oidc_grant",
        sa.Column("id", sa.String(43), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(500), nullable=False),
        sa.Column("account_epoch", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(43), nullable=True),
        sa.Column("auth_time", sa.Integer(), nullable=True),
        sa.Column("acr", sa.String(100), nullable=True),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_oidc_grant_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_grant")),
    )
    op.create_index(op.f("ix_oidc_grant_client_id"), "oidc_grant", ["client_id"])
    op.create_index(op.f("ix_oidc_grant_account_id"), "oidc_grant", ["account_id"])
    op.create_index(op.f("ix_oidc_grant_sid"), "oidc_grant", ["sid"])
    op.create_table(
        "oidc_refresh_token",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("grant_id", sa.String(43), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["grant_id"], ["oidc_grant.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_refresh_token_grant_id_oidc_grant")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oidc_refresh_token")),
    )
    op.create_index(op.f("ix_oidc_refresh_token_grant_id"), "oidc_refresh_token", ["grant_id"])


def downgrade() -> None:
    op.drop_table("oidc_refresh_token")
    op.drop_table("oidc_grant")
    op.drop_table("oidc_client")
