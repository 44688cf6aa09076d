"""Alembic is the only way the schema changes: head equals the models, and every step reverses."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect, text

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


def test_statistics_columns_are_filled_from_earlier_case_work(
    make_app: AppFactory, database_url: str
) -> None:
    """6918f2188c81 copies the moderators' decision and coding of existing cases."""
    app: Flask = make_app(DATABASE_URL=database_url)
    columns = (
        "id, state, codebook_version, source, reported_on, role, date_kind, date_from, date_to,"
        " land, place_type, online, most_severe_type, target, consent_publication, verified_on"
    )
    rows = [  # id, state, verified_on
        (1, "verified", "2026-01-05"),
        (2, "closed", "2026-01-06"),  # verified, then closed
        (3, "closed", None),  # closed without verification: unknown decision
        (4, "not_verifiable", None),
        (5, "received", None),
    ]
    with app.app_context():
        flask_migrate.upgrade(revision="3c5d8d5f778d")
        with db.engine.begin() as connection:
            for number, state, verified_on in rows:
                connection.execute(
                    text(
                        f"INSERT INTO incident ({columns}) VALUES (:id, :state, '2026.2', 'form',"  # noqa: S608
                        " '2026-01-01', 'self', 'exact', '2026-01-01', '2026-01-01', 'be',"
                        " 'street', false, 'threat', 'person', false, :verified_on)"
                    ),
                    {"id": number, "state": state, "verified_on": verified_on},
                )
            for question, code in (("land", "nw"), ("town", "koeln"), ("place_type", "school"),
                                   ("target", "group")):  # fmt: skip
                connection.execute(
                    text(
                        "INSERT INTO case_code (incident_id, question, code)"
                        " VALUES (1, :question, :code)"
                    ),
                    {"question": question, "code": code},
                )
        flask_migrate.upgrade(revision="6918f2188c81")
        with db.engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT id, verification, coded_land, coded_town, coded_place_type,"
                    " coded_target FROM incident ORDER BY id"
                )
            ).all()
        assert [tuple(row) for row in found] == [
            (1, "verified", "nw", "koeln", "school", "group"),
            (2, "verified", None, None, None, None),
            (3, None, None, None, None, None),
            (4, "not_verifiable", None, None, None, None),
            (5, None, None, None, None, None),
        ]
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()


def _count_status_sessions() -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM status_session")).scalar_one())


def test_status_sessions_are_removed_both_ways_when_their_sealing_changes(
    make_app: AppFactory, database_url: str
) -> None:
    """fff25083a049 cannot reseal live sessions (their secrets exist only in cookies)."""
    app: Flask = make_app(DATABASE_URL=database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="6918f2188c81")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO org_key (id, public_key, fingerprint, state, created_on)"
                    " VALUES (1, :key, 'f', 'active', '2026-11-26')"
                ),
                {"key": b"k" * 32},
            )
            connection.execute(
                text(
                    "INSERT INTO report (id, receipt_lookup, submitted_on, org_key_id,"
                    " receipt_salt) VALUES (7, 'lookup', '2026-11-26', 1, :salt)"
                ),
                {"salt": b"s" * 16},
            )
            connection.execute(
                text(
                    "INSERT INTO status_session (id, report_id, sealed_mailbox_key, expires_at)"
                    " VALUES ('old', 7, :sealed, '2026-11-26 14:03:05.123456+00:00')"
                ),
                {"sealed": b"x" * 60},
            )
        assert _count_status_sessions() == 1
        flask_migrate.upgrade(revision="fff25083a049")
        assert _count_status_sessions() == 0
        columns = {column["name"] for column in inspect(db.engine).get_columns("status_session")}
        assert columns == {"id", "sealed_access", "expires_on"}
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO status_session (id, sealed_access, expires_on)"
                    " VALUES ('new', :sealed, '2026-11-27')"
                ),
                {"sealed": b"y" * 89},
            )
        flask_migrate.downgrade(revision="6918f2188c81")
        assert _count_status_sessions() == 0
        columns = {column["name"] for column in inspect(db.engine).get_columns("status_session")}
        assert columns == {"id", "report_id", "sealed_mailbox_key", "expires_at"}
        with db.engine.connect() as connection:  # the reports themselves are untouched
            assert connection.execute(text("SELECT id FROM report")).scalars().all() == [7]
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()
