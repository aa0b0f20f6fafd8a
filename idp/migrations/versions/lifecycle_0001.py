"""lifecycle: alumni state, registry AcademicIDs, warnings sent, extensions, services.

Revision ID: lifecycle_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "lifecycle_0001"
down_revision = "0001_foundations"
branch_labels = ("lifecycle",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("alumni_since", sa.Date(), nullable=True))
    with op.batch_alter_table("registry_record") as batch:
        batch.add_column(sa.Column("academic_id", sa.String(64), nullable=True))
    op.create_table(
        "lifecycle_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_lifecycle_notice_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_notice")),
        sa.UniqueConstraint("account_id", "ends_on", "days_before", name="lifecycle_notice_once"),
    )
    op.create_table(
        "account_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("evidence", sa.String(60), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_account_extension_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_extension")),
    )
    op.create_index(op.f("ix_account_extension_account_id"), "account_extension", ["account_id"])
    op.create_table(
        "account_service",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_account_service_account_id_account")),
        sa.PrimaryKeyConstraint("account_id", "service", name=op.f("pk_account_service")),
    )


def downgrade() -> None:
    op.drop_table("account_service")
    op.drop_index(op.f("ix_account_extension_account_id"), table_name="account_extension")
    op.drop_table("account_extension")
    op.drop_table("lifecycle_notice")
    with op.batch_alter_table("registry_record") as batch:
        batch.drop_column("academic_id")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("alumni_since")
