from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from app.database import SQLITE_BUSY_TIMEOUT_MS
from app.extensions import db
from app.models import AuditEvent
from app.models.audit import AuditLogIsAppendOnly
from tests.conftest import AppFactory


def test_sqlite_runs_with_wal_foreign_keys_busy_timeout_and_secure_delete(
    make_app: AppFactory,
) -> None:
    app: Flask = make_app()
    with app.app_context():
        with db.engine.connect() as connection:
            pragma = {
                name: connection.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "secure_delete")
            }
        db.engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
        "secure_delete": 1,
    }


def test_models_round_trip_on_both_databases(db_app: Flask) -> None:
    with db_app.app_context():
        db.session.add(
            AuditEvent(tag="system:test:write", summary="round trip", details={"codes": [1, 2]})
        )
        db.session.commit()
        event = db.session.scalars(db.select(AuditEvent)).one()
        assert event.details == {"codes": [1, 2]}
        assert event.occurred_at is not None


def test_the_audit_log_is_append_only(db_app: Flask) -> None:
    with db_app.app_context():
        event = AuditEvent(tag="test:audit:write", summary="once", details={})
        db.session.add(event)
        db.session.commit()
        event.summary = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        db.session.delete(event)
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()
        db.session.rollback()
