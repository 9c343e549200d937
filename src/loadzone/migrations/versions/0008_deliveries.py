"""deliveries (the outbox) and one-click extend links

Revision ID: 0008
Revises: 0007

Every e-mail and webhook post is a `deliveries` row written in the transaction of the
change that causes it; a background worker sends it. `extend_links` keeps the hash of each
expiry warning's one-click extend link. Notifications gain `owner`, `expires_at` and
`group_name` so that a mail or chat message reads alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("notification_id", BigId, nullable=True),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=False),
        sa.Column("give_up_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_deliveries_key"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_at"])
    op.create_index("ix_deliveries_notification_id", "deliveries", ["notification_id"])
    op.create_table(
        "extend_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("booking_id", BigId, nullable=False),
        sa.Column("notification_id", BigId, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
        sa.UniqueConstraint("notification_id", name="uq_extend_links_notification_id"),
    )
    op.create_index("ix_extend_links_booking_id", "extend_links", ["booking_id"])
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("owner", sa.String(254), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("group_name", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("group_name")
        batch.drop_column("expires_at")
        batch.drop_column("owner")
    op.drop_table("extend_links")
    op.drop_table("deliveries")
