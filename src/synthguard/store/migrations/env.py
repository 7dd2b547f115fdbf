"""Alembic environment: the engine comes from SynthGuard (Database.migrate), never from an ini file."""

from alembic import context

import synthguard.store.schema  # noqa: F401  (all tables on Base.metadata)
from synthguard.store.base import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
