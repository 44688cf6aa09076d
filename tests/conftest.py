"""Fixtures shared by every test: apps on SQLite and on a real PostgreSQL, clients, logs."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.postgres import PostgresServer, PostgresUnavailable, running_postgres

# In CI a missing PostgreSQL is an error, never a quiet skip.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DATABASES = ["sqlite", "postgresql"]

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


@pytest.fixture
def make_app(tmp_path: Path) -> AppFactory:
    """Build a testing app whose instance folder is a fresh temporary folder."""

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "ENV_NAME": "testing",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "RECEIPT_SECRET": secrets.token_urlsafe(48),
            "SESSION_COOKIE_SECURE": False,
        }
        config.update(overrides)
        return create_app(config)

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """An app on SQLite, for tests that never touch the database."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each engine in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'instance' / 'meldeportal.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def db_app(make_app: AppFactory, database_url: str) -> Iterator[Flask]:
    """An app whose database is migrated to head, on SQLite and on PostgreSQL."""
    app = make_app(DATABASE_URL=database_url)
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db_client(db_app: Flask) -> FlaskClient:
    return db_app.test_client()
