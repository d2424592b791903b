"""Alembic's entry: migrations run on the connection ektp-opt hands over (never from an ini file),
inside ektp-opt's own transaction, so that a store is created or upgraded whole or not at all."""

from __future__ import annotations

from alembic import context

from ektp_opt.campaign.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()
