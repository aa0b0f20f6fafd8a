"""console: requests for non-personal accounts and the owner of each.

Revision ID: console_0002
Revises: console_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "console_0002"
down_revision = "console_0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nonpersonal_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_account_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("decided_by", sa.String(60), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name=op.f("ck_nonpersonal_request_status")),
        sa.ForeignKeyConstraint(["owner_account_id"], ["account.id"],
                                name=op.f("fk_nonpersonal_request_owner_account_id_account")),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_nonpersonal_request_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nonpersonal_request")),
        sa.UniqueConstraint("account_id", name=op.f("uq_nonpersonal_request_account_id")),
    )
    op.create_index(op.f("ix_nonpersonal_request_owner_account_id"), "nonpersonal_request",
                    ["owner_account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_nonpersonal_request_owner_account_id"), table_name="nonpersonal_request")
    op.drop_table("nonpersonal_request")
