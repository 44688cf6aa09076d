"""Counting on SQLite and PostgreSQL: what counts, how it is grouped, how it is protected."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app.codebook import current_codebook
from app.extensions import db
from app.intake.services import code_incident
from app.models import CaseCode, Incident
from app.models.incident import CLOSED, NOT_VERIFIABLE, OUT_OF_SCOPE, RECEIVED, VERIFIED
from app.research.disclosure import TOTAL
from app.research.public import count_public_statistics, public_statistics
from app.research.statistics import (
    NOT_STATED,
    InvalidStatisticsQuery,
    StatisticsQuery,
    build_table,
    parse_query,
)
from tests.factories import TODAY, sample_answers


@pytest.fixture
def counting(db_app: Flask) -> Iterator[Flask]:
    with db_app.test_request_context():
        yield db_app


def counted_incident(
    *,
    day: dt.date = dt.date(2026, 3, 10),
    verification: str | None = VERIFIED,
    types: tuple[str, ...] = ("verbal_abuse",),
    state: str = VERIFIED,
    **coded: Any,
) -> Incident:
    """An incident as the moderators left it: coded, decided, counted by these columns."""
    incident = code_incident(sample_answers(), current_codebook(), today=TODAY, source="form")
    incident.date_from = incident.date_to = day
    incident.state, incident.verification = state, verification
    incident.coded_on = TODAY
    incident.coded_codebook_version = current_codebook().version
    incident.coded_most_severe_type = current_codebook().most_severe_type(types)
    values = {"coded_land": "be", "coded_town": None, "coded_place_type": "street",
              "coded_target": "person", "gender": "woman", "age_band": "age_30_44",
              **coded}  # fmt: skip
    for name, value in values.items():
        setattr(incident, name, value)
    db.session.add(incident)
    db.session.flush()
    db.session.add_all(
        CaseCode(incident_id=incident.id, question="incident_types", code=code) for code in types
    )
    return incident


def many(count: int, **fields: Any) -> list[Incident]:
    return [counted_incident(**fields) for _ in range(count)]


def table_for(**parameters: str) -> Any:
    return build_table(parse_query(parameters), k=5, today=TODAY)


def test_only_verified_coded_originals_count(counting: Flask) -> None:
    originals = many(6)
    many(5, verification=NOT_VERIFIABLE, state=CLOSED)
    many(7, verification=OUT_OF_SCOPE, state=OUT_OF_SCOPE)  # never counted
    many(8, verification=None, state=RECEIVED)  # not decided yet
    for repeat in many(9):  # repeat reports of the first incident
        repeat.duplicate_of = originals[0].id
    uncoded = many(10)
    for incident in uncoded:
        incident.coded_on = None
    db.session.flush()
    assert table_for(rows="land").value(TOTAL) == 6
    both = table_for(rows="verification", verification="verified,not_verifiable")
    assert (both.value(VERIFIED), both.value(NOT_VERIFIABLE), both.value(TOTAL)) == (6, 5, 11)
    assert both.query.verification == (VERIFIED, NOT_VERIFIABLE)
    assert both.codebook_versions == (current_codebook().version,)


def test_grouping_by_land_and_type_protects_small_cells(counting: Flask) -> None:
    many(20, coded_land="be")
    many(12, coded_land="nw", types=("threat",))
    many(3, coded_land="sn")  # small: withheld, and one more cell with it
    table = table_for(rows="land", columns="type")
    assert [row.code for row in table.rows] == list(current_codebook().question("land").codes)
    assert table.value("nw", "threat") == 12
    assert table.protected.suppressed[("sn", "verbal_abuse")] == "primary"
    assert table.protected.suppressed[("sn", TOTAL)] == "primary"
    # The column would give 3 away (23 - 20), so Berlin's cell and its total go with it.
    assert table.protected.suppressed[("be", "verbal_abuse")] == "complementary"
    assert table.value(TOTAL, "verbal_abuse") == 23
    assert table.value(TOTAL) == 35
    published = [v for v in table.protected.values.values() if v is not None]
    assert not [v for v in published if 0 < v < 5]
    assert table.value("hh", "verbal_abuse") == 0  # zeros are published


def test_every_type_counts_each_coded_type(counting: Flask) -> None:
    many(6, types=("assault", "verbal_abuse"))
    many(5, types=("verbal_abuse",))
    severe = table_for(rows="type")
    assert (severe.value("assault"), severe.value("verbal_abuse")) == (6, 5)
    every = table_for(rows="type", types="every")
    assert (every.value("assault"), every.value("verbal_abuse"), every.value(TOTAL)) == (6, 11, 17)
    only_assault = table_for(rows="land", types="every", type="assault")
    assert only_assault.value("be") == 6


def test_periods_filters_and_not_stated(counting: Flask) -> None:
    many(5, day=dt.date(2025, 2, 1))
    many(6, day=dt.date(2025, 11, 30), gender=None)
    many(7, day=dt.date(2026, 1, 15), coded_town="berlin")
    years = table_for(rows="period")
    assert [row.code for row in years.rows] == ["2025", "2026"]
    assert (years.value("2025"), years.value("2026")) == (11, 7)
    quarters = table_for(rows="period", period="quarter", **{"from": "2025-01", "to": "2025-12"})
    assert [row.code for row in quarters.rows] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert (quarters.value("2025-Q1"), quarters.value("2025-Q2")) == (5, 0)
    months = table_for(rows="period", period="month", **{"from": "2025-11"})
    assert months.rows[0].code == "2025-11"
    assert months.rows[-1].code == "2026-11"  # up to this month, empty months included
    assert months.value("2026-01") == 7
    gender = table_for(rows="gender")
    assert gender.value(NOT_STATED) == 6
    assert gender.rows[-1].label == "nicht angegeben"
    towns = table_for(rows="town", land="be")
    assert (towns.value("berlin"), towns.value(NOT_STATED)) == (7, 11)
    only_2026 = table_for(rows="land", period="month", **{"from": "2026-01", "to": "2026-01"})
    assert only_2026.value(TOTAL) == 7


@pytest.mark.parametrize(
    ("parameters", "parameter"),
    [
        ({"rows": "colour"}, "rows"),
        ({"rows": "land", "columns": "land"}, "columns"),
        ({"period": "week"}, "period"),
        ({"types": "some"}, "types"),
        ({"verification": "out_of_scope"}, "verification"),
        ({"land": "be,xx"}, "land"),
        ({"from": "2025-13"}, "from"),
        ({"from": "2025-05", "to": "2025-04"}, "to"),
    ],
)
def test_queries_that_cannot_be_built_name_their_parameter(
    app: Flask, parameters: dict[str, str], parameter: str
) -> None:
    with app.test_request_context(), pytest.raises(InvalidStatisticsQuery) as refused:
        parse_query(parameters)
    assert refused.value.parameter == parameter


def test_a_query_survives_its_own_parameters(app: Flask) -> None:
    with app.test_request_context():
        query = parse_query({"rows": "land", "columns": "period", "period": "month",
                             "verification": "not_verifiable,verified", "land": "be,nw",
                             "from": "2025-01", "to": "2025-06", "types": "every"})  # fmt: skip
        assert parse_query(query.as_parameters()) == query
        assert query.verification == (VERIFIED, NOT_VERIFIABLE)
        assert StatisticsQuery().as_parameters()["rows"] == "period"


def test_public_tables_publish_every_shared_total(counting: Flask) -> None:
    many(30, day=dt.date(2025, 5, 1))
    many(3, day=dt.date(2026, 2, 1), coded_land="hb", types=("threat",))
    many(9, day=dt.date(2026, 2, 1))
    statistics = count_public_statistics(k=5, today=TODAY)
    assert statistics.years == ("2025", "2026")
    for table in (statistics.by_month, statistics.by_type, statistics.by_land):
        assert table.value("2025") == 30
        values = [v for v in table.values.values() if v is not None]
        assert not [v for v in values if 0 < v < 5]
    assert statistics.by_land.value("2026", "hb") is None
    for table in (statistics.by_month, statistics.by_type, statistics.by_land):
        assert table.value("2026") == 12  # shared totals are always published


def test_the_public_tables_are_current_after_every_change(counting: Flask) -> None:
    many(5)
    assert public_statistics(counting, today=TODAY).by_month.value(TOTAL) == 5
    (moved,) = many(5)[:1]
    assert public_statistics(counting, today=TODAY).by_month.value(TOTAL) == 10
    moved.duplicate_of = moved.id - 1  # no one's cache to drop: the counts follow the row
    assert public_statistics(counting, today=TODAY).by_month.value(TOTAL) == 9


def test_a_year_too_small_to_publish_is_left_out_of_every_public_table(counting: Flask) -> None:
    many(3, day=dt.date(2024, 7, 1))  # a whole year below k: even its total would identify
    many(20, day=dt.date(2025, 5, 1))
    statistics = count_public_statistics(k=5, today=TODAY)
    assert statistics.years == ("2025", "2026")
    assert statistics.hidden_years == ("2024",)
    for table in (statistics.by_month, statistics.by_type, statistics.by_land):
        assert table.value(TOTAL) == 20  # the grand total counts only the years shown
        assert table.value("2025") == 20
