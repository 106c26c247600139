"""Alembic environment: migrates the database named in the Alembic config."""

from alembic import context
from sqlmodel import SQLModel

import surveys.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from surveys.database import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a live connection (render_as_batch lets SQLite alter tables)."""
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        try:
            with engine.connect() as connection:
                _run(connection)
        finally:
            engine.dispose()  # also when a migration refuses: no connection is left open
    else:
        _run(connectable)


def _run(connection) -> None:
    """Configure the context on a connection and run the migrations."""
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
