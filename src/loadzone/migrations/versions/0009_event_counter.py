"""the event counter

Revision ID: 0009
Revises: 0008

One row holding the last `seq` given to a Socket.IO event and the last one given to an
event for everyone: each transaction that emits takes a block of numbers from it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counter = op.create_table(
        "event_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("public_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(counter, [{"id": 1, "seq": 0, "public_seq": 0}])


def downgrade() -> None:
    op.drop_table("event_counter")
