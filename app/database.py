"""Engine set-up that differs per database."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 5000


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers and the writer work side by side; foreign keys are off by default in
        # SQLite; secure_delete overwrites freed pages so purged reports leave no remnants.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


def commit_or_roll_back(response: Response) -> Response:
    """The request commits once, at its end, and only when it succeeded (Indico's rule)."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_request_transactions(app: Flask) -> None:
    app.after_request(commit_or_roll_back)


def configure_engines(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite" and not event.contains(
            engine, "connect", _set_sqlite_pragmas
        ):
            event.listen(engine, "connect", _set_sqlite_pragmas)
