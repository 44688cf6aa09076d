"""c4e8a1f9d2b6: accounts from before the confirmation step count as confirmed."""

from __future__ import annotations

import flask_migrate
from flask import Flask
from sqlalchemy import text

from app.extensions import db
from tests.conftest import AppFactory


def test_existing_accounts_count_as_confirmed_and_the_step_reverses(
    make_app: AppFactory, database_url: str
) -> None:
    app: Flask = make_app(DATABASE_URL=database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="2d6c9e4b8a17")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    'INSERT INTO "user" (email, role, language, password_salt, password_params,'
                    " password_verifier, sealed_totp_secret, notify_new_reports, active,"
                    " created_on) VALUES ('alt@example.org', 'moderator', 'de', :salt, '{}',"
                    " :verifier, :sealed, false, true, '2026-11-27')"
                ),
                {"salt": b"s" * 16, "verifier": b"v" * 32, "sealed": b"t" * 57},
            )
        flask_migrate.upgrade(revision="c4e8a1f9d2b6")
        with db.engine.connect() as connection:
            row = connection.execute(
                text('SELECT totp_confirmed_on, totp_enrolment_key FROM "user"')
            ).one()
        assert str(row[0]) == "2026-11-27"
        assert row[1] is None
        flask_migrate.downgrade(revision="2d6c9e4b8a17")
        with db.engine.connect() as connection:
            assert connection.execute(text('SELECT email FROM "user"')).scalar() == (
                "alt@example.org"
            )
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()
