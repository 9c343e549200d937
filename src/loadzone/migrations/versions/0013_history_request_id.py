"""request id on audit records

Revision ID: 0013
Revises: 0012

The X-Request-ID of the HTTP request behind each audit record, to find its log lines.
Older records, jobs and the CLI leave it NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: no copy of a long history table.
    op.add_column("history", sa.Column("request_id", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.drop_column("request_id")
