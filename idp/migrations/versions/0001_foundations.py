"""Foundations: people, affiliations, accounts, registry records, audit log, consent.

Revision ID: 0001_foundations
Revises: 
"""

import sqlalchemy as sa
from alembic import op

revision = '0001_foundations'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('academic_id', sa.String(length=64), nullable=False),
    sa.Column('given_name_el', sa.String(length=100), nullable=False),
    sa.Column('family_name_el', sa.String(length=100), nullable=False),
    sa.Column('given_name_en', sa.String(length=100), nullable=False),
    sa.Column('family_name_en', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('amka', sa.String(length=11), nullable=True),
    sa.Column('foreign_ssn', sa.String(length=40), nullable=True),
    sa.Column('foreign_ssn_country', sa.String(length=2), nullable=True),
    sa.Column('ehic', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(academic_id) BETWEEN 1 AND 64', name=op.f('ck_person_academic_id_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('academic_id', name=op.f('uq_person_academic_id')),
    sa.UniqueConstraint('amka', name=op.f('uq_person_amka'))
    )
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('domain', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=True),
    sa.Column('external_email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('personal', 'nonpersonal')", name=op.f('ck_account_kind')),
    sa.CheckConstraint("status IN ('pending', 'active', 'disabled', 'expired')", name=op.f('ck_account_status')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_account_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('username', name=op.f('uq_account_username'))
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_account_one_personal', ['person_id'], unique=True, sqlite_where=sa.text("kind = 'personal'"), postgresql_where=sa.text("kind = 'personal'"))

    op.create_table('registry_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_registry', sa.String(length=20), nullable=False),
    sa.Column('registration_id', sa.String(length=40), nullable=False),
    sa.Column('department_id', sa.String(length=20), nullable=True),
    sa.Column('first_name_el', sa.String(length=100), nullable=False),
    sa.Column('last_name_el', sa.String(length=100), nullable=False),
    sa.Column('first_name_en', sa.String(length=100), nullable=False),
    sa.Column('last_name_en', sa.String(length=100), nullable=False),
    sa.Column('father_first_name_el', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('ssn', sa.String(length=40), nullable=True),
    sa.Column('ssn_country', sa.String(length=2), nullable=True),
    sa.Column('tin', sa.String(length=20), nullable=True),
    sa.Column('tin_country', sa.String(length=2), nullable=True),
    sa.Column('ext_email', sa.String(length=254), nullable=True),
    sa.Column('mobile_phone', sa.String(length=20), nullable=True),
    sa.Column('enrollment_status', sa.String(length=20), nullable=True),
    sa.Column('enrollment_type', sa.String(length=20), nullable=True),
    sa.Column('inscription_ac_year', sa.String(length=9), nullable=True),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('contract_start', sa.Date(), nullable=True),
    sa.Column('contract_end', sa.Date(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_registry_record_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_record')),
    sa.UniqueConstraint('source_registry', 'registration_id', name='registry_key')
    )
    with op.batch_alter_table('registry_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_record_person_id'), ['person_id'], unique=False)

    op.create_table('affiliation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('department_id', sa.String(length=20), nullable=True),
    sa.Column('registration_id', sa.String(length=40), nullable=True),
    sa.Column('source_registry', sa.String(length=20), nullable=False),
    sa.Column('registry_record_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_through', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_affiliation_person_id_person')),
    sa.ForeignKeyConstraint(['registry_record_id'], ['registry_record.id'], name=op.f('fk_affiliation_registry_record_id_registry_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_affiliation'))
    )
    with op.batch_alter_table('affiliation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_affiliation_person_id'), ['person_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=60), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_audit_event_account_id_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_audit_event_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # The audit log is append-only for the database too, not only for the ORM.
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
    op.create_table('consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('relying_party', sa.String(length=500), nullable=False),
    sa.Column('attribute_names', sa.JSON(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_consent_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent')),
    sa.UniqueConstraint('account_id', 'relying_party', name='consent_key')
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_account_id'), ['account_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_account_id'))

    op.drop_table('consent')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_account_id'))

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    op.drop_table('audit_event')
    with op.batch_alter_table('affiliation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_affiliation_person_id'))

    op.drop_table('affiliation')
    with op.batch_alter_table('registry_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_record_person_id'))

    op.drop_table('registry_record')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index('uq_account_one_personal', sqlite_where=sa.text("kind = 'personal'"), postgresql_where=sa.text("kind = 'personal'"))
        batch_op.drop_index(batch_op.f('ix_account_person_id'))

    op.drop_table('account')
    op.drop_table('person')
