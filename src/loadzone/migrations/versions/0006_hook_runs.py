"""release and book hooks

Revision ID: 0006
Revises: 0005

Hook runs (`hook_runs`), written with the booking change that calls for them, and on each
VM whether a release hook is resetting it and why it went into maintenance.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hook_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("vm_id", sa.String(64), nullable=False),
        sa.Column("booking_id", BigId, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hook_runs_state_lease", "hook_runs", ["state", "lease_until"])
    op.create_index("ix_hook_runs_vm_id", "hook_runs", ["vm_id"])
    with op.batch_alter_table("vms") as batch:
        batch.add_column(
            sa.Column("resetting", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("maintenance_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.drop_column("maintenance_reason")
        batch.drop_column("resetting")
    op.drop_index("ix_hook_runs_vm_id", table_name="hook_runs")
    op.drop_index("ix_hook_runs_state_lease", table_name="hook_runs")
    op.drop_table("hook_runs")
