"""Alembic is the only way the schema changes: head equals the models, and every step reverses."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

from app.extensions import db
from tests.conftest import AppFactory


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_matches_the_models(make_app: AppFactory, database_url: str) -> None:
    app: Flask = make_app(DATABASE_URL=database_url)
    with app.app_context():
        assert table_names() == set()
        flask_migrate.upgrade()
        assert table_names() == set(db.metadata.tables)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        db.engine.dispose()


def test_downgrade_to_empty_and_up_again(make_app: AppFactory, database_url: str) -> None:
    app: Flask = make_app(DATABASE_URL=database_url)
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert table_names() == set()
        flask_migrate.upgrade()
        assert table_names() == set(db.metadata.tables)
        db.engine.dispose()


def test_each_revision_steps_down_and_up_one_at_a_time(
    make_app: AppFactory, database_url: str
) -> None:
    app: Flask = make_app(DATABASE_URL=database_url)
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        revisions = list(ScriptDirectory.from_config(config).walk_revisions("base", "heads"))
        flask_migrate.upgrade()
        for _ in revisions:
            flask_migrate.downgrade(revision="-1")
        assert table_names() == set()
        for revision in reversed(revisions):
            flask_migrate.upgrade(revision=revision.revision)
        assert table_names() == set(db.metadata.tables)
        db.engine.dispose()
