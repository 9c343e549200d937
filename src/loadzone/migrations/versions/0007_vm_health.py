"""VM health from TCP probes

Revision ID: 0007
Revises: 0006

The last verdict of the health probes (`up`, `down`, or NULL for unknown) and when it began.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.add_column(sa.Column("health", sa.String(8), nullable=True))
        batch.add_column(sa.Column("health_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.drop_column("health_since")
        batch.drop_column("health")
