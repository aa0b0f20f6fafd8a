"""Activation: self-service flows, one-time PINs, the message outbox, retired usernames.

Revision ID: activation_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "activation_0001"
down_revision = "0001_foundations"
branch_labels = ("activation",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "flow",
        sa.Column("id", sa.String(43), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("subject", sa.String(100), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("return_to", sa.String(500), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow")),
    )
    op.create_index(op.f("ix_flow_subject"), "flow", ["subject"])
    op.create_index(op.f("ix_flow_expires_at"), "flow", ["expires_at"])
    op.create_table(
        "pin",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("flow_id", sa.String(43), nullable=False),
        sa.Column("purpose", sa.String(30), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("consumed_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["flow_id"], ["flow.id"], ondelete="CASCADE",
                                name=op.f("fk_pin_flow_id_flow")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin")),
    )
    op.create_index(op.f("ix_pin_flow_id"), "pin", ["flow_id"])
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body_encrypted", sa.Text(), nullable=True),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("claimed_until", TZ, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    op.create_index(op.f("ix_outbox_message_status"), "outbox_message", ["status"])
    op.create_index(op.f("ix_outbox_message_next_attempt_at"), "outbox_message",
                    ["next_attempt_at"])
    op.create_table(
        "dev_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("delivered_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_message")),
    )
    op.create_table(
        "retired_username",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("retired_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_retired_username_account_id_account")),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_retired_username")),
    )


def downgrade() -> None:
    for table in ("retired_username", "dev_message", "outbox_message", "pin", "flow"):
        op.drop_table(table)
