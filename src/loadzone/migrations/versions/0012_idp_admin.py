"""admin by the identity provider's group claim

Revision ID: 0012
Revises: 0010

Whether the person's last OpenID Connect sign-in carried the admin group
(LOADZONE_OIDC_ADMIN_GROUP); read beside LOADZONE_ADMINS.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("idp_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("idp_admin")
