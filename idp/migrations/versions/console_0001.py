"""console: operator roles (office, helpdesk, federation, admin) of accounts.

Revision ID: console_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "console_0001"
down_revision = "0001_foundations"
branch_labels = ("console",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_role",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(60), nullable=False),
        sa.CheckConstraint("role IN ('office', 'helpdesk', 'federation', 'admin')",
                           name=op.f("ck_operator_role_known")),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE",
                                name=op.f("fk_operator_role_account_id_account")),
        sa.PrimaryKeyConstraint("account_id", "role", name=op.f("pk_operator_role")),
    )


def downgrade() -> None:
    op.drop_table("operator_role")
