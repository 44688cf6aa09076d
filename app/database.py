"""Engine set-up that differs per database."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.extensions import db

# A write waits this long for SQLite's one write lock before it fails; with writes kept short
# (reports are sealed before they are written), a queue of this length is a burst, not a jam.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Errors that mean "another writer was in the way": worth a short wait and another try.
_SQLITE_CONTENTION = ("database is locked", "database table is locked", "database is busy")
_POSTGRESQL_CONTENTION = frozenset({"40001", "40P01"})  # serialization failure, deadlock
WRITE_ATTEMPTS = 3
Result = TypeVar("Result")


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


def is_contention(error: DBAPIError) -> bool:
    """The write failed only because others were writing: it may succeed when tried again."""
    code = getattr(error.orig, "sqlstate", None)
    return code in _POSTGRESQL_CONTENTION or any(
        text in str(error.orig).lower() for text in _SQLITE_CONTENTION
    )


def retry_on_contention(attempt: Callable[[], Result], before_retry: Callable[[], None]) -> Result:
    """``attempt()``, tried again (after ``before_retry()`` and a short random pause) when it
    failed only because others were writing.

    Raises:
        DBAPIError: any other failure at once; contention after ``WRITE_ATTEMPTS`` tries.
    """
    for number in range(1, WRITE_ATTEMPTS + 1):
        try:
            return attempt()
        except DBAPIError as error:
            if isinstance(error, IntegrityError) or not is_contention(error):
                raise
            if number == WRITE_ATTEMPTS:
                raise
            before_retry()
            time.sleep(random.uniform(0.05, 0.2) * number)  # noqa: S311 - jitter, not a secret
    raise AssertionError("unreachable")  # pragma: no cover


def write_now(rows: Sequence[object]) -> None:
    """Flush the session, trying again when other writers are in the way.

    ``rows`` are the new objects the flush writes (with their cascades): a failed try rolls
    the transaction back, which takes them out of the session, so they are added again.

    Raises:
        IntegrityError: a constraint refused the rows (never retried).
        OperationalError: still no way through after ``WRITE_ATTEMPTS`` tries.
    """

    def start_again() -> None:
        db.session.rollback()
        db.session.add_all(rows)

    retry_on_contention(db.session.flush, start_again)


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
