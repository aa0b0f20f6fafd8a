"""SAML: registered service providers and their release policies.

Revision ID: saml_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "saml_0001"
down_revision = "0001_foundations"
branch_labels = ("saml",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saml_service_provider",
        sa.Column("entity_id", sa.String(length=1024), nullable=False),
        sa.Column("metadata_xml", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_saml_service_provider")),
    )
    op.create_table(
        "saml_release_policy",
        sa.Column("entity_id", sa.String(length=1024), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("allow_unsolicited", sa.Boolean(), nullable=False),
        sa.Column("sign_response", sa.Boolean(), nullable=False),
        sa.Column("encrypt_assertions", sa.Boolean(), nullable=False),
        sa.Column("require_signed_requests", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_saml_release_policy")),
    )


def downgrade() -> None:
    op.drop_table("saml_release_policy")
    op.drop_table("saml_service_provider")
