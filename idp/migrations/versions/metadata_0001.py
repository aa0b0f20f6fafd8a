"""Federation metadata sources and the SPs of their last good copies.

Revision ID: metadata_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "metadata_0001"
down_revision = "0001_foundations"
branch_labels = ("metadata",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "saml_metadata_source",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("location", sa.String(2048), nullable=False),
        sa.Column("certificates", sa.Text(), nullable=False),
        sa.Column("refresh_seconds", sa.Integer(), nullable=False),
        sa.Column("registration_authorities", sa.JSON(), nullable=False),
        sa.Column("entity_categories", sa.JSON(), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("next_refresh_at", TZ, nullable=False),
        sa.Column("last_attempt_at", TZ, nullable=True),
        sa.Column("last_success_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("valid_until", TZ, nullable=True),
        sa.Column("document_sha256", sa.String(64), nullable=True),
        sa.Column("entity_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_saml_metadata_source")),
    )
    op.create_table(
        "saml_metadata_entity",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(1024), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("valid_until", TZ, nullable=True),
        sa.Column("expires_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["source"], ["saml_metadata_source.name"], ondelete="CASCADE",
                                name=op.f("fk_saml_metadata_entity_source_saml_metadata_source")),
        sa.PrimaryKeyConstraint("source", "entity_id", name=op.f("pk_saml_metadata_entity")),
    )


def downgrade() -> None:
    op.drop_table("saml_metadata_entity")
    op.drop_table("saml_metadata_source")
