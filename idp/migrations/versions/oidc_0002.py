"""OIDC: a client with a secret may send it with HTTP Basic or in the form body, unless held
to its registered method.

Existing clients were registered with client_secret_basic only because it was the default;
they now accept client_secret_post too (openid-client's default), as a client registered
today without --auth-method does.

Revision ID: oidc_0002
Revises: oidc_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "oidc_0002"
down_revision = "oidc_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_client") as batch:
        batch.add_column(sa.Column("strict_auth_method", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("oidc_client") as batch:
        batch.drop_column("strict_auth_method")
