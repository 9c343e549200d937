"""bookings as records

Revision ID: 0003
Revises: 0002

A booking becomes a row of its own (reserved, active, ended or cancelled) instead of two
columns on the VM. The audit history is replayed into booking rows, so usage over the past
stays computable, every audit record is linked to its booking, and the VM's holder is read
from its one active booking. On PostgreSQL an exclusion constraint keeps the reserved and
active bookings of a VM from overlapping.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from loadzone.booking.replay import Holder, Replay

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = sa.text("state = 'active'")
BATCH = 5000


def _create_tables() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("vm_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(254), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.Column("request_id", BigId, nullable=True),
        sa.Column("heartbeat_s", sa.Integer(), nullable=True),
        sa.Column("last_heartbeat", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_bookings_active_vm",
        "bookings",
        ["vm_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    op.create_index("ix_bookings_vm_start", "bookings", ["vm_id", "start"])
    op.create_index("ix_bookings_state_start", "bookings", ["state", "start"])
    op.create_index("ix_bookings_state_end", "bookings", ["state", "end"])
    op.create_index("ix_bookings_owner_start", "bookings", ["owner", "start"])
    op.create_index("ix_bookings_end", "bookings", ["end"])
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("booking_id", BigId, nullable=True))
        batch.create_index("ix_history_booking_id", ["booking_id"])
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("max_hours", sa.Integer(), nullable=True))


def _utc(value):
    """SQLite hands back text, PostgreSQL naive datetimes: aware UTC either way."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def _backfill() -> None:
    conn = op.get_bind()
    holders = {
        row.id: Holder(row.booked_by, _utc(row.booked_at), _utc(row.expires_at), bool(row.warned))
        for row in conn.execute(
            sa.text(
                "SELECT id, booked_by, booked_at, expires_at, warned FROM vms "
                "WHERE booked_by IS NOT NULL AND expires_at IS NOT NULL"
            )
        )
    }
    replay = Replay()
    # A statement option: on the connection it would stream every later statement too.
    records = conn.execute(
        sa.text(
            'SELECT id, at, action, reason, vm_id, "user", "end" FROM history ORDER BY at, id'
        ).execution_options(yield_per=BATCH)
    )
    for rec in records:
        replay.record(
            rec.id, _utc(rec.at), rec.action, rec.reason, rec.vm_id, rec.user, _utc(rec.end)
        )
    replay.finish(holders, datetime.now(UTC))
    for row in replay.rows:  # the columns hold naive UTC
        for key in ("start", "end", "ended_at", "created_at"):
            if row[key] is not None:
                row[key] = row[key].replace(tzinfo=None)
    bookings = sa.table(
        "bookings",
        *(
            sa.column(name)
            for name in (
                "id",
                "vm_id",
                "owner",
                "start",
                "end",
                "state",
                "ended_at",
                "end_reason",
                "created_at",
                "warned",
            )
        ),
    )
    for first in range(0, len(replay.rows), BATCH):
        conn.execute(bookings.insert(), replay.rows[first : first + BATCH])
    link = sa.text("UPDATE history SET booking_id = :b WHERE id = :h")
    for first in range(0, len(replay.links), BATCH):
        conn.execute(link, replay.links[first : first + BATCH])
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('bookings', 'id'), "
                "COALESCE((SELECT MAX(id) FROM bookings), 0) + 1, false)"
            )
        )


def _drop_vm_columns() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.drop_index("ix_vms_booked_by")
        batch.drop_index("ix_vms_expires_at")
        batch.drop_column("booked_by")
        batch.drop_column("booked_at")
        batch.drop_column("expires_at")
        batch.drop_column("warned")


def upgrade() -> None:
    _create_tables()
    _backfill()
    _drop_vm_columns()
    if op.get_bind().dialect.name == "postgresql":
        # Naive UTC columns, so tsrange; '[)' lets one booking end where the next starts.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist "
            "(vm_id WITH =, tsrange(start, \"end\", '[)') WITH &&) "
            "WHERE (state IN ('reserved', 'active'))"
        )


def downgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.add_column(sa.Column("booked_by", sa.String(254), nullable=True))
        batch.add_column(sa.Column("booked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("warned", sa.Boolean(), nullable=False, server_default="0"))
        batch.create_index("ix_vms_booked_by", ["booked_by"])
        batch.create_index("ix_vms_expires_at", ["expires_at"])
    op.execute(
        'UPDATE vms SET booked_by = b.owner, booked_at = b.start, expires_at = b."end", '
        "warned = b.warned FROM bookings b WHERE b.vm_id = vms.id AND b.state = 'active'"
    )
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("max_hours")
    with op.batch_alter_table("history") as batch:
        batch.drop_index("ix_history_booking_id")
        batch.drop_column("booking_id")
    op.drop_table("bookings")
