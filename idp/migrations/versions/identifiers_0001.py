"""Identifiers of one case: AcademicIDs lower-cased and unique regardless of case, while every
person keeps the identifiers relying parties already have.

Relying parties that follow the subject identifier profile compare subject-id, pairwise-id
and eduPersonUniqueId case-insensitively; others (a Shibboleth SP's persistent NameID, OIDC
`sub`) compare them byte for byte. So the AcademicID is lower-cased and kept unique
regardless of case, and each person's AcademicID as it was is kept in released_academic_id:
what relying parties receive about that person (subject-id, eduPersonUniqueId,
schGrAcPersonID, and pairwise values, upper-case base32 keyed by that AcademicID) stays
byte for byte what it was. Nobody records which relying parties saw whom, so every person
existing now is treated as known everywhere. People created later are lower case throughout.

Two AcademicIDs that differed only in case cannot both be lower-cased: the later person gets a
fresh AcademicID and keeps the released one, so neither changes for anyone; each such person
is logged.

Revision ID: identifiers_0001
Revises: 0001_foundations
"""

import logging
import secrets
import string

import sqlalchemy as sa
from alembic import op

revision = "identifiers_0001"
down_revision = "0001_foundations"
branch_labels = ("identifiers",)
depends_on = None

PERSON = sa.table("person", sa.column("id", sa.Integer),
                  sa.column("academic_id", sa.String),
                  sa.column("released_academic_id", sa.String))
ALPHABET = string.ascii_lowercase + string.digits


def upgrade() -> None:
    op.add_column("person", sa.Column("released_academic_id", sa.String(64), nullable=True))
    connection = op.get_bind()
    for person_id, academic_id in _case_collisions(connection):
        fresh = _unused_academic_id(connection)
        connection.execute(PERSON.update().where(PERSON.c.id == person_id).values(
            released_academic_id=academic_id, academic_id=fresh))
        logging.getLogger("kleidi.migrations").warning(
            "person %s had an AcademicID equal to another's but for case: it got a new one "
            "and keeps the identifiers relying parties have", person_id)
    connection.execute(PERSON.update().where(PERSON.c.released_academic_id.is_(None)).values(
        released_academic_id=PERSON.c.academic_id,
        academic_id=sa.func.lower(PERSON.c.academic_id)))
    op.create_index("uq_person_academic_id_any_case", "person",
                    [sa.text("lower(academic_id)")], unique=True)
    op.create_index("uq_person_released_academic_id", "person", ["released_academic_id"],
                    unique=True)


def _case_collisions(connection) -> list[tuple[int, str]]:
    """Every person but the first of each group whose AcademicIDs are equal but for case."""
    lowered = sa.func.lower(PERSON.c.academic_id)
    groups = sa.select(lowered).group_by(lowered).having(sa.func.count() > 1).subquery()
    rows = connection.execute(sa.select(PERSON.c.id, PERSON.c.academic_id, lowered.label("key"))
                              .where(lowered.in_(sa.select(groups)))
                              .order_by(lowered, PERSON.c.id)).all()
    seen, later = set(), []
    for person_id, academic_id, key in rows:
        if key in seen:
            later.append((person_id, academic_id))
        seen.add(key)
    return later


def _unused_academic_id(connection) -> str:
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(32))
        taken = connection.execute(sa.select(PERSON.c.id).where(
            sa.func.lower(PERSON.c.academic_id) == candidate)).first()
        if taken is None:
            return candidate


def downgrade() -> None:
    op.drop_index("uq_person_released_academic_id", "person")
    op.drop_index("uq_person_academic_id_any_case", "person")
    connection = op.get_bind()
    connection.execute(PERSON.update().where(PERSON.c.released_academic_id.is_not(None))
                       .values(academic_id=PERSON.c.released_academic_id))
    with op.batch_alter_table("person") as batch:
        batch.drop_column("released_academic_id")
