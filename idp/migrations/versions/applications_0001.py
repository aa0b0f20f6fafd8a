"""applications: staff applications, their history, identity checks and hand-overs.

Revision ID: applications_0001
Revises: 0001_foundations
"""

import sqlalchemy as sa
from alembic import op

revision = "applications_0001"
down_revision = "0001_foundations"
branch_labels = ("applications",)
depends_on = None

TZ = sa.DateTime(timezone=True)
STATUSES = ("submitted", "account_created", "verified", "handed_over", "rejected")


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "staff_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("given_name_el", sa.String(100), nullable=False),
        sa.Column("family_name_el", sa.String(100), nullable=False),
        sa.Column("given_name_en", sa.String(100), nullable=False),
        sa.Column("family_name_en", sa.String(100), nullable=False),
        sa.Column("father_name", sa.String(100), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("mobile", sa.String(20), nullable=False),
        sa.Column("amka", sa.String(11), nullable=True),
        sa.Column("document_kind", sa.String(30), nullable=False),
        sa.Column("document_number", sa.String(40), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=True),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("supervisor", sa.String(200), nullable=True),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("registry_record_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_staff_application_status")),
        _fk("staff_application", "registry_record_id", "registry_record"),
        _fk("staff_application", "person_id", "person"),
        _fk("staff_application", "account_id", "account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_application")),
        sa.UniqueConstraint("serial", name=op.f("uq_staff_application_serial")),
    )
    op.create_index(op.f("ix_staff_application_status"), "staff_application", ["status"])
    op.create_table(
        "staff_application_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        _fk("staff_application_event", "application_id", "staff_application"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_application_event")),
    )
    op.create_index(op.f("ix_staff_application_event_application_id"),
                    "staff_application_event", ["application_id"])
    op.create_table(
        "staff_application_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_staff_application_counter")),
    )
    op.create_table(
        "staff_application_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("document_kind", sa.String(30), nullable=False),
        sa.Column("document_number", sa.String(40), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("at", TZ, nullable=False),
        _fk("staff_application_verification", "application_id", "staff_application"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_application_verification")),
    )
    op.create_index(op.f("ix_staff_application_verification_application_id"),
                    "staff_application_verification", ["application_id"])
    op.create_table(
        "staff_handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        _fk("staff_handover", "application_id", "staff_application"),
        _fk("staff_handover", "account_id", "account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_handover")),
        sa.UniqueConstraint("digest", name=op.f("uq_staff_handover_digest")),
    )
    op.create_index(op.f("ix_staff_handover_application_id"), "staff_handover",
                    ["application_id"])


def downgrade() -> None:
    for table in ("staff_handover", "staff_application_verification",
                  "staff_application_counter", "staff_application_event", "staff_application"):
        op.drop_table(table)
