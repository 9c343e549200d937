"""Alembic environment: runs on the connection LoadZone hands over."""

from alembic import context

from loadzone import models  # noqa: F401  (registers the tables)
from loadzone.extensions import db

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `loadzone db upgrade`")

context.configure(
    connection=connection,
    target_metadata=db.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
