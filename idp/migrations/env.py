"""Alembic environment: Kleidi runs migrations itself (``kleidi init``) on its own connection."""

from alembic import context

# Every module that declares tables, so that autogenerate sees the whole schema.
from idp import audit, consent, flows  # noqa: F401
from idp.credentials import pins  # noqa: F401
from idp.db import Base
from idp.identity import extensions, lifecycle, models, operators, services  # noqa: F401
from idp.messaging import outbox  # noqa: F401
from idp.mfa import models as mfa_models  # noqa: F401
from idp.oidc import models as oidc_models  # noqa: F401
from idp.saml import models as saml_models  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
