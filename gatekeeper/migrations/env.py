"""Alembic environment: runs on the connection gatekeeper.db.migrate() hands it."""

from alembic import context

from gatekeeper.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations through gatekeeper (gatekeeper serve / gatekeeper.db.migrate).")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
