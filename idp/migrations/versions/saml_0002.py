"""SAML: the Response is signed by default, and a policy may leave the Assertion unsigned.

SPs on their defaults (python3-saml with wantMessagesSigned, node-saml, Shibboleth SP) refuse
an unsigned Response. Until now a policy row stored sign_response=False unless an operator
had asked for it, which is what an operator got without choosing: every row now signs the
Response too, as a row made today would.

Revision ID: saml_0002
Revises: saml_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "saml_0002"
down_revision = "saml_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("saml_release_policy") as batch:
        batch.add_column(sa.Column("sign_assertions", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    op.execute(sa.text("UPDATE saml_release_policy SET sign_response = :yes")
               .bindparams(sa.bindparam("yes", True, type_=sa.Boolean())))


def downgrade() -> None:
    with op.batch_alter_table("saml_release_policy") as batch:
        batch.drop_column("sign_assertions")
