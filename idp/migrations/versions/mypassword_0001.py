"""mypassword: TOTP authenticators (secrets encrypted) and recovery codes (keyed hashes).

Revision ID: mypassword_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "mypassword_0001"
down_revision = "0001_foundations"
branch_labels = ("mypassword",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "totp_authenticator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("secret_sealed", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("confirmed_at", TZ, nullable=True),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE",
                                name=op.f("fk_totp_authenticator_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_authenticator")),
        sa.UniqueConstraint("account_id", name=op.f("uq_totp_authenticator_account_id")),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE",
                                name=op.f("fk_recovery_code_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
        sa.UniqueConstraint("account_id", "digest", name="recovery_code_key"),
    )
    op.create_index(op.f("ix_recovery_code_account_id"), "recovery_code", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_code_account_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_table("totp_authenticator")
