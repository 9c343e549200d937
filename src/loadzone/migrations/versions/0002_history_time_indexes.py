"""history indexes for newest-first pages by (at, id)

Revision ID: 0002
Revises: 0001

Audit pages are ordered by (at, id). Each selective filter gets an index ending in those
columns, and the low-cardinality `action` index goes: pages filtered by action alone read
the (at, id) index, and SQLite, which has no statistics, preferred it for `vm_id + action`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_history_vm_at", "history", ["vm_id", "at", "id"])
    op.create_index("ix_history_user_at", "history", ["user", "at", "id"])
    op.create_index("ix_history_at_id", "history", ["at", "id"])
    op.drop_index("ix_history_vm", table_name="history")
    op.drop_index("ix_history_user", table_name="history")
    op.drop_index("ix_history_action", table_name="history")
    op.drop_index("ix_history_at", table_name="history")


def downgrade() -> None:
    op.create_index("ix_history_vm", "history", ["vm_id", "id"])
    op.create_index("ix_history_user", "history", ["user", "id"])
    op.create_index("ix_history_action", "history", ["action", "id"])
    op.create_index("ix_history_at", "history", ["at"])
    op.drop_index("ix_history_at_id", table_name="history")
    op.drop_index("ix_history_user_at", table_name="history")
    op.drop_index("ix_history_vm_at", table_name="history")
