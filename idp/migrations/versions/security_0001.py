"""security: the language of an account's last sign-in, for notices sent unprompted
(an attack on the account slowed down).

Revision ID: security_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "security_0001"
down_revision = "0001_foundations"
branch_labels = ("security",)
depends_on = None


def upgrade() -> None:
    op.add_column("account", sa.Column("language", sa.String(5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_column("language")
