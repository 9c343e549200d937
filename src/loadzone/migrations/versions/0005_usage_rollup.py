"""usage rolled up per VM and day

Revision ID: 0005
Revises: 0004

Whole past days of usage per VM (seconds held, bookings begun), the days rolled up, the
last day each person held a VM of each group, and the VMs' groups at that time; filled
from the bookings here and then by the scheduler. A covering index lets the calendar's
window read bookings by (start, id).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from loadzone.reporting import rollup

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "usage_days",
        sa.Column("day", sa.DateTime(), nullable=False),
        sa.Column("vm_id", sa.String(64), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "vm_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "usage_marks",
        sa.Column("day", sa.DateTime(), nullable=False),
        sa.Column("reach", sa.DateTime(), nullable=True),
        sa.Column("max_id", BigId, nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "usage_people",
        sa.Column("group_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(254), nullable=False),
        sa.Column("last_day", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "owner"),
    )
    op.create_table(
        "usage_vm_groups",
        sa.Column("vm_id", sa.String(64), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("vm_id"),
    )
    rollup.advance(op.get_bind(), datetime.now(UTC))


def downgrade() -> None:
    for table in ("usage_vm_groups", "usage_people", "usage_marks", "usage_days"):
        op.drop_table(table)
