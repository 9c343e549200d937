"""mail preferences and calendar feeds

Revision ID: 0010
Revises: 0009

Which notification types a person wants by e-mail (only choices differing from nothing:
a missing row takes the default), and the hash of each person's calendar feed secret.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_preferences",
        sa.Column("user", sa.String(254), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("wanted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user"], ["users.email"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user", "type"),
    )
    # Announcements are mailed to whoever switched their type on: found by type.
    op.create_index("ix_mail_preferences_type", "mail_preferences", ["type", "wanted"])
    op.create_table(
        "calendar_feeds",
        sa.Column("user", sa.String(254), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user"], ["users.email"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user"),
        sa.UniqueConstraint("token_hash"),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.drop_index("ix_mail_preferences_type", table_name="mail_preferences")
    op.drop_table("mail_preferences")
