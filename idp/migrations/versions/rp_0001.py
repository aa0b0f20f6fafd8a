"""Relying parties registered through the portal, their owners; an OIDC client's approved
attributes and its jwks_uri.

It follows oidc_0002 (it changes oidc_client) as its down revision, not as a ``depends_on``:
Alembic keeps a dependency out of the version table, which would leave oidc_0002 looking
pending to ``idp.migrate.pending`` (and /readyz) for ever.

Revision ID: rp_0001
Revises: oidc_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "rp_0001"
down_revision = "oidc_0002"
branch_labels = ("rp",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "relying_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("identifier", sa.String(1024), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested", sa.JSON(), nullable=False),
        sa.Column("approved", sa.JSON(), nullable=True),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identifier"),
        sa.CheckConstraint("kind IN ('saml', 'oidc')", name="relying_party_kind"),
        sa.CheckConstraint("state IN ('draft', 'submitted', 'approved', 'rejected', 'active')",
                           name="relying_party_state"),
    )
    op.create_table(
        "relying_party_owner",
        sa.Column("relying_party_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["relying_party_id"], ["relying_party.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("relying_party_id", "account_id"),
    )
    op.create_index("ix_relying_party_owner_account_id", "relying_party_owner", ["account_id"])
    with op.batch_alter_table("oidc_client") as batch:
        batch.add_column(sa.Column("released_attributes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("jwks_uri", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_client") as batch:
        batch.drop_column("jwks_uri")
        batch.drop_column("released_attributes")
    op.drop_index("ix_relying_party_owner_account_id", "relying_party_owner")
    op.drop_table("relying_party_owner")
    op.drop_table("relying_party")
