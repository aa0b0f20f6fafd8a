"""Alembic environment: Kleidi runs migrations itself (``kleidi init``) on its own connection."""

from alembic import context

from idp import models  # noqa: F401  (registers every table on Base.metadata)
from idp.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
