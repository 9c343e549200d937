"""credentials version on the event counter row

Revision ID: 0014
Revises: 0013

A number bumped with every revoked token and every ended session, read with the event
number once per request: while it stands still, a token or session checked a moment ago
needs no second look in the database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "event_counter",
        sa.Column("credentials", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("event_counter") as batch:
        batch.drop_column("credentials")
