"""the queue, labels, addresses and heartbeats

Revision ID: 0004
Revises: 0003

Waiting requests (`requests`), the request a free VM is held for (`vms.held_for`), VM
labels (one row per pair) and addresses, and the instant a heartbeat booking goes idle.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(254), nullable=False),
        sa.Column("vm_id", sa.String(64), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("heartbeat_s", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("wait_until", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_requests_state_created", "requests", ["state", "created_at", "id"])
    op.create_index("ix_requests_owner", "requests", ["owner"])
    op.create_table(
        "vm_labels",
        sa.Column("vm_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["vm_id"], ["vms.id"], ondelete="CASCADE", onupdate="CASCADE"),
        sa.PrimaryKeyConstraint("vm_id", "key"),
    )
    op.create_index("ix_vm_labels_pair", "vm_labels", ["key", "value"])
    with op.batch_alter_table("vms") as batch:
        batch.add_column(sa.Column("address", sa.String(255), nullable=True))
        batch.add_column(sa.Column("held_for", BigId, nullable=True))
        batch.create_index("ix_vms_held_for", ["held_for"])
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("idle_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_bookings_idle_at", ["idle_at"])


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_index("ix_bookings_idle_at")
        batch.drop_column("idle_at")
    with op.batch_alter_table("vms") as batch:
        batch.drop_index("ix_vms_held_for")
        batch.drop_column("held_for")
        batch.drop_column("address")
    op.drop_table("vm_labels")
    op.drop_table("requests")
