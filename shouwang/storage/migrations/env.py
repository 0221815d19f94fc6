"""Alembic's environment for the state store: always run from `shouwang.storage.migrate`, which
hands over an open connection (no alembic.ini, no URL here)."""

from __future__ import annotations

from alembic import context

from shouwang.storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through `shouwang db ...`, which supplies the connection")

# SQLite alters a table by copying it (batch mode); PostgreSQL's batch mode is plain ALTERs, so
# migrations written in batch form run on both.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True, compare_server_default=False)
with context.begin_transaction():
    context.run_migrations()
