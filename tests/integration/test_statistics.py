"""Counting on SQLite and PostgreSQL: what counts, how it is grouped, how it is protected.

What counts is checked on the true counts (``count_cells``, never shown); how it is published
is checked against the cell-key method itself: a published value is
``statistics_perturbation().publish_cell(count, key sum)`` of exactly the incidents it counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from app.codebook import current_codebook
from app.extensions import db
from app.intake.services import code_incident
from app.models import CaseCode, Incident
from app.models.incident import CLOSED, NOT_VERIFIABLE, OUT_OF_SCOPE, RECEIVED, VERIFIED
from app.research.disclosure import TOTAL, ProtectedTable, statistics_perturbation
from app.research.public import count_public_statistics, public_statistics
from app.research.statistics import (
    NOT_STATED,
    InvalidStatisticsQuery,
    StatisticsQuery,
    build_table,
    count_cells,
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
    return build_table(parse_query(parameters), today=TODAY)


def true_counts(**parameters: str) -> dict[tuple[str, str], int]:
    """The true counts of a table, keyed (row, column or TOTAL): what the statistics count."""
    return count_cells(parse_query(parameters)).counts


def published(incidents: Sequence[Incident]) -> int:
    """What the configured perturbation publishes for a cell of exactly ``incidents`` (one
    listed twice counts twice, as under "every coded type")."""
    keys = [incident.record_key for incident in incidents]
    return statistics_perturbation().publish_cell(len(keys), sum(keys))


def assert_nothing_below_k(table: ProtectedTable) -> None:
    assert table.k == 5
    assert not [value for value in table.values.values() if 0 < value < table.k]


def test_only_verified_coded_originals_count(counting: Flask) -> None:
    originals = many(6)
    undecidable = many(5, verification=NOT_VERIFIABLE, state=CLOSED)
    many(7, verification=OUT_OF_SCOPE, state=OUT_OF_SCOPE)  # never counted
    many(8, verification=None, state=RECEIVED)  # not decided yet
    for repeat in many(9):  # repeat reports of the first incident
        repeat.duplicate_of = originals[0].id
    uncoded = many(10)
    for incident in uncoded:
        incident.coded_on = None
    db.session.flush()
    assert true_counts(rows="land") == {("be", TOTAL): 6}
    assert table_for(rows="land").value(TOTAL) == published(originals)
    assert true_counts(rows="verification", verification="verified,not_verifiable") == {
        (VERIFIED, TOTAL): 6,
        (NOT_VERIFIABLE, TOTAL): 5,
    }
    both = table_for(rows="verification", verification="verified,not_verifiable")
    assert both.value(VERIFIED) == published(originals)
    assert both.value(NOT_VERIFIABLE) == published(undecidable)
    assert both.value(TOTAL) == published(originals + undecidable)
    assert both.query.verification == (VERIFIED, NOT_VERIFIABLE)
    assert both.codebook_versions == (current_codebook().version,)


def test_grouping_by_land_and_type_perturbs_every_cell_and_total_on_its_own(
    counting: Flask,
) -> None:
    berlin = many(20, coded_land="be")
    nrw = many(12, coded_land="nw", types=("threat",))
    saxony = many(3, coded_land="sn")  # small: published as 0 or as 5, never as 3
    table = table_for(rows="land", columns="type")
    assert [row.code for row in table.rows] == list(current_codebook().question("land").codes)
    assert true_counts(rows="land", columns="type") == {
        ("be", "verbal_abuse"): 20,
        ("nw", "threat"): 12,
        ("sn", "verbal_abuse"): 3,
    }
    assert table.value("nw", "threat") == published(nrw)
    assert table.value("be", "verbal_abuse") == published(berlin)
    assert table.value("sn", "verbal_abuse") == published(saxony)
    assert table.value("sn", "verbal_abuse") in statistics_perturbation().distribution(3)
    # A total is perturbed from its own incidents, not added up from published cells: a row
    # of one cell publishes that cell's number, a column of two the number of both together.
    assert table.value("sn") == table.value("sn", "verbal_abuse")
    assert table.value("be") == table.value("be", "verbal_abuse")
    assert table.value(TOTAL, "verbal_abuse") == published(berlin + saxony)
    assert table.value(TOTAL, "threat") == table.value("nw", "threat")
    assert table.value(TOTAL) == published(berlin + nrw + saxony)
    assert abs(table.value(TOTAL) - 35) <= 3  # D
    assert_nothing_below_k(table.protected)
    assert table.value("hh", "verbal_abuse") == 0  # a true zero is published as 0
    assert table.value("hh") == 0


def test_every_type_counts_each_coded_type(counting: Flask) -> None:
    both = many(6, types=("assault", "verbal_abuse"))
    abuse = many(5, types=("verbal_abuse",))
    assert true_counts(rows="type") == {("assault", TOTAL): 6, ("verbal_abuse", TOTAL): 5}
    severe = table_for(rows="type")
    assert (severe.value("assault"), severe.value("verbal_abuse")) == (
        published(both),
        published(abuse),
    )
    assert true_counts(rows="type", types="every") == {
        ("assault", TOTAL): 6,
        ("verbal_abuse", TOTAL): 11,
    }
    every = table_for(rows="type", types="every")
    assert every.value("assault") == published(both)
    assert every.value("verbal_abuse") == published(both + abuse)
    # Each incident's record key once per type it is counted under, like its count.
    assert every.value(TOTAL) == published(both + both + abuse)
    only_assault = table_for(rows="land", types="every", type="assault")
    assert only_assault.value("be") == published(both)


def test_periods_filters_and_not_stated(counting: Flask) -> None:
    february = many(5, day=dt.date(2025, 2, 1))
    november = many(6, day=dt.date(2025, 11, 30), gender=None)
    january = many(7, day=dt.date(2026, 1, 15), coded_town="berlin")
    assert true_counts(rows="period") == {("2025", TOTAL): 11, ("2026", TOTAL): 7}
    years = table_for(rows="period")
    assert [row.code for row in years.rows] == ["2025", "2026"]
    assert (years.value("2025"), years.value("2026")) == (
        published(february + november),
        published(january),
    )
    quarters = table_for(rows="period", period="quarter", **{"from": "2025-01", "to": "2025-12"})
    assert [row.code for row in quarters.rows] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert (quarters.value("2025-Q1"), quarters.value("2025-Q2")) == (published(february), 0)
    # The year 2025 asked for as a range of quarters: the same incidents, the same number.
    assert quarters.value(TOTAL) == years.value("2025")
    months = table_for(rows="period", period="month", **{"from": "2025-11"})
    assert months.rows[0].code == "2025-11"
    assert months.rows[-1].code == "2026-11"  # up to this month, empty months included
    assert months.value("2026-01") == published(january)
    assert true_counts(rows="gender")[(NOT_STATED, TOTAL)] == 6
    gender = table_for(rows="gender")
    assert gender.value(NOT_STATED) == published(november)
    assert gender.rows[-1].label == "nicht angegeben"
    assert true_counts(rows="town", land="be") == {("berlin", TOTAL): 7, (NOT_STATED, TOTAL): 11}
    towns = table_for(rows="town", land="be")
    assert towns.value("berlin") == published(january)
    assert towns.value(NOT_STATED) == published(february + november)
    only_2026 = table_for(rows="land", period="month", **{"from": "2026-01", "to": "2026-01"})
    assert only_2026.value(TOTAL) == published(january)
    for table in (years, quarters, months, gender, towns, only_2026):
        assert_nothing_below_k(table.protected)


def test_a_land_filter_lists_only_its_towns_and_another_town_is_not_a_town_not_given(
    counting: Flask,
) -> None:
    many(5, coded_land="be", coded_town="berlin")
    elsewhere = many(6, coded_land="be", coded_town="other")
    not_given = many(7, coded_land="be", coded_town=None)
    hamburg = many(5, coded_land="hh", coded_town="hamburg")
    town = current_codebook().question("town")
    in_land = {land: [a.code for a in town.answers if a.land == land] for land in ("be", "hh")}
    towns = table_for(rows="town", land="be")
    assert [row.code for row in towns.rows] == [*in_land["be"], "other", NOT_STATED]
    assert towns.value("other") == published(elsewhere)
    assert towns.value(NOT_STATED) == published(not_given)
    labels = {row.code: row.label for row in towns.rows}
    assert labels["other"] == "Eine andere Stadt oder Gemeinde (nicht in der Liste)"
    assert labels[NOT_STATED] == "Stadt oder Gemeinde nicht angegeben"
    # Two Länder list the towns of both; as columns the same; without a Land filter, all.
    both = table_for(rows="town", land="be,hh")
    assert [row.code for row in both.rows] == [
        code for code in town.codes if code in in_land["be"] + in_land["hh"] + ["other"]
    ] + [NOT_STATED]
    as_columns = table_for(rows="period", columns="town", land="hh")
    assert [column.code for column in as_columns.columns] == [*in_land["hh"], "other", NOT_STATED]
    assert as_columns.value(TOTAL, "hamburg") == published(hamburg)
    assert len(table_for(rows="town").rows) == len(town.codes) + 1
    # Each is its own filter too.
    assert table_for(rows="land", town="other").value("be") == published(elsewhere)
    assert table_for(rows="land", town=NOT_STATED).value("be") == published(not_given)


def test_partial_periods_say_which_days_they_count(counting: Flask) -> None:
    march = many(5, day=dt.date(2025, 3, 10))
    years = table_for(rows="period")
    first, now = years.rows
    assert (first.code, first.label) == ("2025", "2025 (ab 1. März 2025)")
    assert first.coverage is not None
    assert (first.coverage.first_day, first.coverage.partial) == (dt.date(2025, 3, 1), True)
    assert (now.code, now.label) == ("2026", "2026 (bis 26. November 2026)")
    assert years.value("2025") == published(march)
    # Months: the first is whole (the data begin on its 1st), this one ends today, and no
    # month after today is listed, even when asked for.
    months = table_for(rows="period", period="month", **{"from": "2025-01", "to": "2026-12"})
    assert [row.code for row in months.rows][-2:] == ["2026-10", "2026-11"]
    partial = {row.code: row.label for row in months.rows if row.coverage and row.coverage.partial}
    assert partial == {"2026-11": "2026-11 (bis 26. November 2026)"}
    assert months.value("2025-03") == published(march)
    with force_locale("en"):
        english = build_table(parse_query({"rows": "period"}), today=TODAY, lang="en")
    assert [row.label for row in english.rows] == [
        "2025 (from 1 March 2025)",
        "2026 (until 26 November 2026)",
    ]


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


def test_public_tables_publish_each_year_alike_in_every_table(counting: Flask) -> None:
    spring = many(30, day=dt.date(2025, 5, 1))
    bremen = many(3, day=dt.date(2026, 2, 1), coded_land="hb", types=("threat",))
    berlin = many(9, day=dt.date(2026, 2, 1))
    statistics = count_public_statistics(statistics_perturbation(), today=TODAY)
    assert statistics.years == ("2025", "2026")
    assert statistics.k == 5
    for table in (statistics.by_month, statistics.by_type, statistics.by_land):
        # A year's total is perturbed from the year's incidents: the same in all three tables.
        assert table.value("2025") == published(spring)
        assert table.value("2026") == published(bremen + berlin)
        assert table.value(TOTAL) == published(spring + bremen + berlin)
        assert_nothing_below_k(table)
    # Bremen's three are published like any other cell (as 0 or 5 to 7), never withheld.
    assert statistics.by_land.value("2026", "hb") == published(bremen)
    assert statistics.by_land.value("2026", "hb") in statistics_perturbation().distribution(3)
    assert statistics.by_type.value("2026", "threat") == published(bremen)
    assert statistics.by_land.value("2026", "be") == published(berlin)
    assert statistics.by_month.value("2026", "02") == published(bremen + berlin)
    assert statistics.by_month.value("2025", "05") == published(spring)
    assert statistics.by_month.value("2026", "03") == 0


def test_the_public_tables_are_current_after_every_change(counting: Flask) -> None:
    first = many(5)
    assert public_statistics(counting, today=TODAY).by_month.value(TOTAL) == published(first)
    second = many(5)
    assert public_statistics(counting, today=TODAY).by_month.value(TOTAL) == published(
        first + second
    )
    moved = second[0]
    moved.duplicate_of = first[-1].id  # no one's cache to drop: the counts follow the row
    assert public_statistics(counting, today=TODAY).by_month.value(TOTAL) == published(
        first + second[1:]
    )
    assert true_counts(rows="period") == {("2026", TOTAL): 9}


def _key_sum_publishing(count: int, *, zero: bool) -> int:
    """A sum of record keys with which ``count`` incidents are published as 0 (``zero``) or
    as k or more."""
    perturbation = statistics_perturbation()
    return next(key_sum for key_sum in range(256)
                if (perturbation.publish_cell(count, key_sum) == 0) == zero)  # fmt: skip


@pytest.mark.parametrize("zero", [True, False], ids=["published as 0", "published as k or more"])
def test_a_small_year_is_shown_and_perturbed_like_any_other(counting: Flask, zero: bool) -> None:
    """Suppression once left a whole year out (even its total would have identified); now
    its total is perturbed like every other, and the year keeps its row either way."""
    key_sum = _key_sum_publishing(3, zero=zero)
    small = [counted_incident(day=dt.date(2024, 7, 1), record_key=key)
             for key in (key_sum, 0, 0)]  # fmt: skip
    large = many(20, day=dt.date(2025, 5, 1))
    assert sum(incident.record_key for incident in small) == key_sum  # the keys were kept
    statistics = count_public_statistics(statistics_perturbation(), today=TODAY)
    assert statistics.years == ("2024", "2025", "2026")
    for table in (statistics.by_month, statistics.by_type, statistics.by_land):
        assert table.value("2024") == published(small)
        assert (table.value("2024") == 0) is zero
        assert table.value("2025") == published(large)
        assert table.value(TOTAL) == published(small + large)  # every year counts
        assert_nothing_below_k(table)


def test_nothing_but_the_numbers_tells_whether_a_filtered_set_is_empty(counting: Flask) -> None:
    """A table's codebook versions and its periods are those of every countable incident: a
    filter that matches nothing and one that matches a single incident look alike but for the
    (perturbed) numbers."""
    many(9, day=dt.date(2024, 3, 5))
    many(1, day=dt.date(2025, 7, 1), coded_land="hb")
    parameters = {"rows": "period", "period": "month"}
    empty = table_for(land="sl", **parameters)
    single = table_for(land="hb", **parameters)
    assert empty.codebook_versions == single.codebook_versions == (current_codebook().version,)
    assert [row.code for row in empty.rows] == [row.code for row in single.rows]
    assert empty.rows[0].code == "2024-03"  # the first month of all, not of Bremen's one
