"""Demo data on SQLite and PostgreSQL: valid codes, a realistic spread, sealed reports, and
never in production."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import demo
from app.audit import AuditTag
from app.codebook import current_codebook
from app.crypto import keyring
from app.crypto.reports import open_report
from app.extensions import db
from app.models import AuditEvent, CaseCode, Incident, IncidentCode, Report
from app.models.incident import (
    CLOSED,
    IN_REVIEW,
    NOT_VERIFIABLE,
    OUT_OF_SCOPE,
    RECEIVED,
    RECORD_KEYS,
    VERIFIED,
)
from app.research.counts import counts_are_current, statistics_count_differences
from tests.conftest import AppFactory
from tests.factories import TODAY
from tests.integration.test_canary import rows_containing

COUNT = 2000
# Every column that holds a code of the codebook question of the same name.
CODE_COLUMNS = ("role", "date_kind", "time_of_day", "land", "town", "place_type", "platform",
                "target", "gender", "age_band", "perpetrator_count", "perpetrator_known",
                "support_wished")  # fmt: skip
CODED_COLUMNS = {"coded_land": "land", "coded_town": "town", "coded_place_type": "place_type",
                 "coded_target": "target", "coded_most_severe_type": "incident_types",
                 "most_severe_type": "incident_types"}  # fmt: skip


def incidents() -> list[Incident]:
    return list(db.session.scalars(select(Incident).order_by(Incident.id)))


def codes_by_incident(model: type[CaseCode | IncidentCode]) -> dict[int, dict[str, list[str]]]:
    found: dict[int, dict[str, list[str]]] = {}
    rows = db.session.execute(
        select(model.incident_id, model.question, model.code).order_by(model.id)
    )
    for incident_id, question, code in rows:
        found.setdefault(incident_id, {}).setdefault(question, []).append(code)
    return found


@pytest.fixture
def generated(db_app: Flask) -> Iterator[str]:
    """``COUNT`` demo incidents with the organisation key in place; yields the recovery key."""
    with db_app.app_context():
        recovery = keyring.initialise_keys(TODAY)
        db.session.commit()
        demo.generate_demo_incidents(COUNT, today=TODAY, batch_size=700, commit_every=1400)
        yield recovery


@pytest.mark.usefixtures("generated")
def test_every_code_is_a_code_of_the_current_codebook() -> None:
    codebook = current_codebook()
    towns = {answer.code: answer.land for answer in codebook.question("town").answers}
    rows = incidents()
    assert len(rows) == COUNT
    for incident in rows:
        for column in CODE_COLUMNS:
            value = getattr(incident, column)
            assert value is None or value in codebook.question(column).codes, (column, value)
        for column, question in CODED_COLUMNS.items():
            value = getattr(incident, column)
            assert value is None or value in codebook.question(question).codes, (column, value)
        assert incident.codebook_version == codebook.version
        assert incident.coded_codebook_version in (None, codebook.version)
        assert incident.source == "form"
        # A coded town is one the codebook lists for the coded Land.
        assert incident.coded_town is None or towns[incident.coded_town] == incident.coded_land
    for model in (CaseCode, IncidentCode):
        pairs = db.session.execute(select(model.question, model.code).distinct()).all()
        assert pairs
        for question, code in pairs:
            assert code in codebook.question(question).codes, (model.__name__, question, code)


@pytest.mark.usefixtures("generated")
def test_codes_and_columns_agree() -> None:
    codebook = current_codebook()
    reporter = codes_by_incident(IncidentCode)
    moderators = codes_by_incident(CaseCode)
    for incident in incidents():
        types = reporter[incident.id]["incident_types"]
        assert 1 <= len(types) <= 3
        assert incident.most_severe_type == codebook.most_severe_type(types)
        assert incident.online == (incident.place_type == "online")
        assert (incident.platform is not None) == incident.online
        if incident.target != "person":
            assert incident.gender is None
            assert incident.age_band is None
        coding = moderators.get(incident.id)
        if incident.coded_on is None:
            assert coding is None
            assert incident.coded_most_severe_type is None
            continue
        assert coding is not None
        assert 1 <= len(coding["incident_types"]) <= 3
        assert incident.coded_most_severe_type == codebook.most_severe_type(
            coding["incident_types"]
        )
        assert coding["land"] == [incident.coded_land]
        assert coding.get("town", [None]) == [incident.coded_town]
        assert coding["place_type"] == [incident.coded_place_type]
        assert coding["target"] == [incident.coded_target]


@pytest.mark.usefixtures("generated")
def test_states_decisions_and_dates_are_consistent() -> None:
    rows = incidents()
    for incident in rows:
        if incident.state in (RECEIVED, IN_REVIEW):
            assert incident.verification is None
            assert incident.coded_on is None
        else:
            assert incident.verification in (VERIFIED, NOT_VERIFIABLE, OUT_OF_SCOPE)
            assert incident.state in (CLOSED, incident.verification)
        if incident.verification == VERIFIED:
            assert incident.coded_on is not None
            assert incident.verified_on is not None
        else:
            assert incident.verified_on is None
        assert (incident.closed_on is not None) == (incident.state == CLOSED)
        steps = [incident.date_from, incident.date_to, incident.reported_on, incident.coded_on,
                 incident.verified_on, incident.closed_on, TODAY]  # fmt: skip
        known = [day for day in steps if day is not None]
        assert known == sorted(known), incident.id
        assert incident.reported_on > TODAY - dt.timedelta(days=3 * 366)
        if incident.duplicate_of is not None:
            assert incident.duplicate_of < incident.id
    duplicates = sum(incident.duplicate_of is not None for incident in rows)
    assert 0.01 * COUNT <= duplicates <= 0.06 * COUNT
    # The newest few percent are still open; everything older was decided.
    open_ids = [item.id for item in rows if item.state in (RECEIVED, IN_REVIEW)]
    assert 0 < len(open_ids) <= 0.05 * COUNT
    assert min(open_ids) > max(item.id for item in rows if item.state not in (RECEIVED, IN_REVIEW))
    decisions = Counter(item.verification for item in rows)
    assert 0.7 * COUNT <= decisions[VERIFIED] <= 0.9 * COUNT
    assert decisions[NOT_VERIFIABLE] > decisions[OUT_OF_SCOPE] > 0
    # Spread over three years, with reports in each of them.
    years = Counter((TODAY - item.reported_on).days // 365 for item in rows)
    assert set(years) <= {0, 1, 2, 3}
    assert min(years[0], years[1], years[2]) > 0.2 * COUNT


@pytest.mark.usefixtures("generated")
def test_the_spread_follows_the_published_reports() -> None:
    rows = incidents()
    lands = Counter(item.land for item in rows)
    assert {land for land, _ in lands.most_common(3)} == {"be", "nw", "by"}
    verified = [item for item in rows if item.verification == VERIFIED]
    types = Counter(item.coded_most_severe_type for item in verified)
    (top, top_count), (_, second_count) = types.most_common(2)
    assert top == "verbal_abuse"
    assert top_count > 1.5 * second_count
    violent = types["extreme_violence"] + types["arson"] + types["assault"]
    assert violent < 0.1 * len(verified)


def test_the_newest_open_cases_have_sealed_reports(generated: str) -> None:
    rows = incidents()
    with_report = [item for item in rows if item.report_id is not None]
    unclosed = [item for item in rows if item.state != CLOSED]
    assert len(with_report) == min(demo.MAX_REPORTS, len(unclosed)) > 0
    assert all(item.state != CLOSED for item in with_report)
    assert min(item.id for item in with_report) > max(
        item.id for item in rows if item.report_id is None
    )
    assert db.session.scalar(select(func.count()).select_from(Report)) == len(with_report)
    # Sealed through the real path: the organisation key opens it, the database never shows it.
    assert rows_containing(demo.PLACEHOLDER) == []
    keys = keyring.unlock_with_recovery(generated)
    report = db.session.get(Report, with_report[-1].report_id)
    assert report is not None
    assert report.submitted_on == with_report[-1].reported_on
    assert open_report(report, keys).fields == {"description": demo.PLACEHOLDER}


@pytest.mark.usefixtures("generated")
def test_one_audit_event_for_the_whole_run() -> None:
    events = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.DEMO_GENERATE))
    )
    assert len(events) == 1
    assert events[0].details["incidents"] == COUNT
    assert events[0].details["first_id"] == 1
    assert events[0].details["last_id"] == COUNT


def _comparable(rows: list[Incident], offset: int) -> list[tuple[Any, ...]]:
    skip = {"id", "report_id", "duplicate_of", "record_key"}  # record keys come from secrets
    columns = [column.name for column in Incident.__table__.columns if column.name not in skip]
    return [
        (
            item.id - offset,
            None if item.duplicate_of is None else item.duplicate_of - offset,
            *(getattr(item, column) for column in columns),
        )
        for item in rows
    ]


def _codes(model: type[CaseCode | IncidentCode], offset: int, low: int, high: int) -> list[Any]:
    rows = db.session.execute(
        select(model.incident_id, model.question, model.code)
        .where(model.incident_id.between(low, high))
        .order_by(model.incident_id, model.question, model.code)
    )
    return [(incident_id - offset, question, code) for incident_id, question, code in rows]


def test_the_same_seed_gives_the_same_rows_and_a_second_run_appends(db_app: Flask) -> None:
    with db_app.app_context():
        first = demo.generate_demo_incidents(300, today=TODAY, batch_size=128)
        second = demo.generate_demo_incidents(300, today=TODAY, batch_size=1000)
        other = demo.generate_demo_incidents(300, today=TODAY, seed=2)
        assert (first.first_id, first.last_id) == (1, 300)
        assert (second.first_id, second.last_id) == (301, 600)
        assert (other.first_id, other.last_id) == (601, 900)
        assert not first.keys
        assert first.reports == 0
        rows = incidents()
        assert [item.id for item in rows] == list(range(1, 901))
        assert all(item.report_id is None for item in rows)
        assert _comparable(rows[:300], 0) == _comparable(rows[300:600], 300)
        assert _comparable(rows[:300], 0) != _comparable(rows[600:], 600)
        for model in (CaseCode, IncidentCode):
            assert _codes(model, 0, 1, 300) == _codes(model, 300, 301, 600)
        keys = [item.record_key for item in rows]
        assert all(0 <= key < RECORD_KEYS for key in keys)
        assert len(set(keys)) > 890  # drawn afresh from 2**32, not copied by the seed
        assert [item.record_key for item in rows[:300]] != [item.record_key for item in
                                                           rows[300:600]]  # fmt: skip
        # The counts were suspended for the bulk inserts and counted afresh at the end.
        assert counts_are_current()
        assert statistics_count_differences() == []
        # The ids the demo gave are behind the database's own counter (PostgreSQL's sequence).
        incident = rows[0]
        columns = [column.name for column in Incident.__table__.columns if column.name != "id"]
        copy = Incident(**{column: getattr(incident, column) for column in columns})
        db.session.add(copy)
        db.session.commit()
        assert copy.id == 901


def test_the_cli_prints_the_count(db_app: Flask) -> None:
    result = db_app.test_cli_runner().invoke(args=["demo", "generate", "--incidents", "120"])
    assert result.exit_code == 0, result.output
    assert "Generated 120 demo incidents (ids 1-120, seed 1)" in result.output
    assert "No organisation key" in result.output
    with db_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 120
        keyring.initialise_keys(TODAY)
        db.session.commit()
    result = db_app.test_cli_runner().invoke(args=["demo", "generate", "--incidents", "30"])
    assert result.exit_code == 0, result.output
    assert "Generated 30 demo incidents (ids 121-150, seed 1)" in result.output
    assert "The newest 3 have a report with sealed placeholder text." in result.output


def test_the_production_configuration_refuses(
    db_app: Flask, make_app: AppFactory, database_url: str
) -> None:
    production = make_app(
        ENV_NAME="production",
        DATABASE_URL=database_url,
        OPERATOR_NAME="Verein",
        OPERATOR_ADDRESS="Straße 1",
        OPERATOR_EMAIL="kontakt@example.org",
    )
    result = production.test_cli_runner().invoke(args=["demo", "generate", "--incidents", "10"])
    assert result.exit_code != 0
    assert "refused with the production configuration" in result.stderr
    assert "Generated" not in result.output
    help_text = production.test_cli_runner().invoke(args=["demo", "generate", "--help"]).output
    assert "when the app runs with the production configuration" in " ".join(help_text.split())
    with production.app_context():
        with pytest.raises(demo.DemoRefused):
            demo.generate_demo_incidents(10, today=TODAY)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        db.session.remove()
        db.engine.dispose()
