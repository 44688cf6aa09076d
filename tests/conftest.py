"""Fixtures shared by every test: apps on SQLite and on a real PostgreSQL, clients, logs."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from tests.postgres import PostgresServer, PostgresUnavailable, running_postgres

# In CI a missing PostgreSQL is an error, never a quiet skip.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DATABASES = ["sqlite", "postgresql"]
SQLITE_FILE = "meldeportal.sqlite3"

AppFactory = Callable[..., Flask]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with running_postgres() as server:
            yield server
    except PostgresUnavailable as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        pytest.skip(f"PostgreSQL tests skipped: {error}")


def testing_app(instance: Path, **overrides: Any) -> Flask:
    """A testing app whose instance folder is ``instance``."""
    config: dict[str, Any] = {
        "ENV_NAME": "testing",
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "RECEIPT_SECRET": secrets.token_urlsafe(48),
        "SESSION_COOKIE_SECURE": False,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def make_app(tmp_path: Path) -> AppFactory:
    """Build a testing app whose instance folder is a fresh temporary folder."""

    def factory(**overrides: Any) -> Flask:
        return testing_app(tmp_path / "instance", **overrides)

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """An app on SQLite, for tests that never touch the database."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def migrate(url: str, instance: Path) -> None:
    """Migrate the database at ``url`` to head and close every connection to it."""
    app = testing_app(instance, DATABASE_URL=url)
    with app.app_context():
        flask_migrate.upgrade()
        if url.startswith("sqlite"):
            # Everything into the main file, so that a copy of that file alone is complete.
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test session (per xdist worker)."""
    instance = tmp_path_factory.mktemp("sqlite-template") / "instance"
    path = instance / SQLITE_FILE
    migrate(f"sqlite:///{path}", instance)
    wal = path.with_name(f"{SQLITE_FILE}-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the template's log was not checkpointed"
    return path


@pytest.fixture(scope="session")
def postgres_template(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A PostgreSQL database migrated to head once per test session (per xdist worker)."""
    name = postgres_server.create_database()
    migrate(postgres_server.url(name), tmp_path_factory.mktemp("postgres-template") / "instance")
    postgres_server.make_template(name)
    return name


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database on each engine in turn: migrated to head when the test uses ``db_app``
    (a copy of the session's migrated template), else empty (the migration tests start there).
    """
    migrated = "db_app" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "instance" / SQLITE_FILE
        if migrated:
            template: Path = request.getfixturevalue("sqlite_template")
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(
        template=request.getfixturevalue("postgres_template") if migrated else None
    )
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def db_app(make_app: AppFactory, database_url: str) -> Iterator[Flask]:
    """An app whose database is migrated to head, on SQLite and on PostgreSQL.

    No test migrates its own database: ``database_url`` is a fresh copy of a template that was
    migrated once per session, which is the same database at a fraction of the cost."""
    app = make_app(DATABASE_URL=database_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db_client(db_app: Flask) -> FlaskClient:
    return db_app.test_client()
