"""Alembic is the only way the schema changes: head equals the models, and every step reverses."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import func, inspect, select, text, update

from app.extensions import db
from app.models import Incident, StatisticsCount
from app.research.counts import counts_are_current, statistics_count_differences
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


def test_record_keys_and_counts_are_filled_for_existing_incidents(
    make_app: AppFactory, database_url: str
) -> None:
    """4b7e2d9a1c35 gives every incident a random key and counts the existing ones."""
    app: Flask = make_app(DATABASE_URL=database_url)
    columns = (
        "id, state, codebook_version, source, reported_on, role, date_kind, date_from, date_to,"
        " land, place_type, online, most_severe_type, target, consent_publication,"
        " verification, duplicate_of, coded_on, coded_codebook_version, coded_most_severe_type,"
        " coded_land, coded_place_type, coded_target, gender"
    )
    decisions = ["verified", "not_verifiable", "out_of_scope", None]
    with app.app_context():
        flask_migrate.upgrade(revision="8c3d1b6e4f20")
        with db.engine.begin() as connection:
            for number in range(1, 81):
                coded = number % 5 != 0
                connection.execute(
                    text(
                        f"INSERT INTO incident ({columns}) VALUES (:id, 'closed', '2026.2',"  # noqa: S608
                        " 'form', '2026-01-01', 'affected', 'exact', :day, :day, 'be', 'street',"
                        " false, 'threat', 'person', false, :decision, :duplicate_of, :coded_on,"
                        " :version, :type, :land, 'street', 'person', :gender)"
                    ),
                    {"id": number, "day": f"2025-{number % 12 + 1:02d}-03",
                     "decision": decisions[number % 4],
                     "duplicate_of": 1 if number % 7 == 0 else None,
                     "coded_on": "2026-01-02" if coded else None,
                     "version": "2026.2" if coded else None,
                     "type": ("assault", "threat")[number % 2] if coded else None,
                     "land": ("be", "nw", "sn")[number % 3] if coded else None,
                     "gender": ("woman", None)[number % 2]},
                )  # fmt: skip
                for code in ("threat", "assault", "verbal_abuse")[: number % 3 + 1]:
                    connection.execute(
                        text(
                            "INSERT INTO case_code (incident_id, question, code)"
                            " VALUES (:id, 'incident_types', :code)"
                        ),
                        {"id": number, "code": code},
                    )
        flask_migrate.upgrade(revision="4b7e2d9a1c35")
        keys = db.session.scalars(select(Incident.record_key).order_by(Incident.id)).all()
        assert len(keys) == 80
        assert all(0 <= key < 2**32 for key in keys)
        assert len(set(keys)) == 80  # from secrets, one by one
        assert counts_are_current()
        assert statistics_count_differences() == []
        counted = db.session.scalar(
            select(func.sum(StatisticsCount.count)).where(StatisticsCount.grouping_id == 1)
        )
        assert counted == 27  # coded, verified or not verifiable, no one's duplicate
        # From here on the triggers keep the counts current.
        db.session.execute(update(Incident).where(Incident.id == 2).values(coded_land="hb"))
        db.session.commit()
        assert statistics_count_differences() == []
        db.session.remove()
        flask_migrate.downgrade(revision="8c3d1b6e4f20")
        columns_left = {column["name"] for column in inspect(db.engine).get_columns("incident")}
        assert "record_key" not in columns_left
        assert "statistics_count" not in table_names()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM case_code")).scalar_one() == 161
            # The incident changed after the upgrade is still there, changes and all.
            assert (
                connection.execute(
                    text("SELECT coded_land FROM incident WHERE id = 2")
                ).scalar_one()
                == "hb"
            )
        flask_migrate.upgrade()
        assert statistics_count_differences() == []
        db.session.remove()
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()


def test_audit_tags_are_renamed_both_ways_and_old_status_sessions_removed(
    make_app: AppFactory, database_url: str
) -> None:
    """2d6c9e4b8a17: one naming for audit tags; status sessions sealed the old way go."""
    app: Flask = make_app(DATABASE_URL=database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="b7a4e2d91c35")
        with db.engine.begin() as connection:
            for tag in ("case:state:change", "auth:login:success", "case:open", "test:other"):
                connection.execute(
                    text(
                        "INSERT INTO audit_event (occurred_at, tag, summary, details)"
                        " VALUES ('2026-12-01 10:00:00+00:00', :tag, 's', '{}')"
                    ),
                    {"tag": tag},
                )
            connection.execute(
                text(
                    "INSERT INTO status_session (id, sealed_access, expires_on)"
                    " VALUES ('old', :sealed, '2026-12-02')"
                ),
                {"sealed": b"y" * 89},
            )

        def tags() -> list[str]:
            with db.engine.connect() as connection:
                found = connection.execute(text("SELECT tag FROM audit_event ORDER BY id"))
                return list(found.scalars())

        flask_migrate.upgrade(revision="2d6c9e4b8a17")
        assert tags() == ["case:change_state", "login:success", "case:open", "test:other"]
        assert _count_status_sessions() == 0
        flask_migrate.downgrade(revision="b7a4e2d91c35")
        assert tags() == ["case:state:change", "auth:login:success", "case:open", "test:other"]
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()
