"""Alembic environment, run through Flask-Migrate (`flask db ...`) inside the app context."""

from __future__ import annotations

from alembic import context
from flask import current_app
from sqlalchemy.engine import Connection

import app.models  # noqa: F401 - every model must be imported for autogenerate

config = context.config
db = current_app.extensions["migrate"].db
target_metadata = db.metadata
# SQLite cannot ALTER most things in place: batch mode rebuilds the table instead.
configure_args = current_app.extensions["migrate"].configure_args


def run_migrations_offline() -> None:
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        **configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A caller (the tests) may hand in an open connection; otherwise use the app's engine.
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    with db.engine.connect() as connection:
        run_with(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
