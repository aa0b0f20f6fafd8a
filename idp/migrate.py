"""Schema migrations (Alembic), run by ``kleidi init`` and by the test suite."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from idp import db

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


#: The PostgreSQL advisory lock that serialises ``kleidi init`` runs (any number, fixed).
ADVISORY_LOCK = 0x6B6C6569  # "klei"


def upgrade() -> None:
    """Bring the app's database to every head (areas keep their own migration branches).

    On PostgreSQL the migration holds a transaction-level advisory lock: a second
    ``kleidi init`` started at the same time waits for the first, then finds nothing to do."""
    with db.engine().begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": ADVISORY_LOCK})
        command.upgrade(alembic_config(connection), "heads")


def pending() -> set[str]:
    """Heads not yet applied to the app's database (empty when it is up to date)."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with db.engine().connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return heads - current
