"""The public tables (app/research/public): what ``count_public_statistics`` makes of the counted
cells, and that the page's bars come from the protected tables alone.

The counting itself (SQL, pre-aggregated counts) is tested in tests/integration; here
``count_tables`` is replaced by one that counts microdata — single incidents, each with its
record key — so that every published number can be checked against exactly its incidents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.codebook import current_codebook
from app.models.incident import VERIFIED
from app.research import public
from app.research.disclosure import TOTAL, Cell
from app.research.perturbation import (
    PerturbationParameters,
    PerturbationTable,
    perturbation_table,
)
from app.research.public import (
    ALL_YEARS,
    MONTHS,
    RECENT_MONTHS,
    PublicStatistics,
    count_public_statistics,
    public_page,
)
from app.research.statistics import (
    MOST_SEVERE,
    PERIOD,
    TYPE,
    CellCounts,
    CountedTable,
)

TODAY = dt.date(2026, 3, 15)
CODEBOOK = current_codebook()
TYPES = CODEBOOK.question("incident_types").codes
LANDS = CODEBOOK.question("land").codes
PERTURBATIONS = (perturbation_table(), perturbation_table(PerturbationParameters(k=3)))


@dataclass(frozen=True)
class Incident:
    year: int
    month: int
    type: str
    land: str
    record_key: int
    version: str

    def period(self, granularity: str) -> str:
        return f"{self.year:04d}" if granularity == "year" else f"{self.year:04d}-{self.month:02d}"


incidents_strategy = st.lists(
    st.builds(
        Incident,
        # Up to a year after today: a wrongly coded future date must not be published.
        st.integers(min_value=2021, max_value=TODAY.year + 1),
        st.integers(min_value=1, max_value=12),
        st.sampled_from(TYPES[:4]),
        st.sampled_from(LANDS[:4]),
        st.integers(min_value=0, max_value=255),
        st.sampled_from(["2026.1", "2026.2"]),
    ),
    max_size=60,
)


def counting(incidents: Sequence[Incident]) -> Callable[..., list[CellCounts]]:
    """A ``count_tables`` over ``incidents``, keyed as the real one keys its cells."""

    def count_tables(
        tables: Sequence[CountedTable], *, from_incidents: bool = False
    ) -> list[CellCounts]:
        results = []
        for query, dimensions in tables:
            # The public page counts verified incidents once each, by their most severe type.
            assert query.verification == (VERIFIED,)
            assert query.types == MOST_SEVERE
            assert not query.filters
            assert (query.first_month, query.last_month) == (None, None)
            assert dimensions[0] == PERIOD
            cells: dict[tuple[str, ...], Cell] = {}
            for incident in incidents:
                codes = {TYPE: incident.type, "land": incident.land}
                key = (incident.period(query.granularity), *(codes[d] for d in dimensions[1:]))
                found = cells.get(key, Cell(0, 0))
                cells[key] = Cell(found.count + 1, found.key_sum + incident.record_key)
            months = [incident.period("month") for incident in incidents]
            versions = tuple(sorted({incident.version for incident in incidents}))
            results.append(CellCounts(cells, versions, min(months, default=None)))
        return results

    return count_tables


def published(
    perturbation: PerturbationTable, incidents: Sequence[Incident], **wanted: object
) -> int:
    """The published value of the incidents with every attribute in ``wanted``."""
    covered = [i for i in incidents if all(getattr(i, k) == v for k, v in wanted.items())]
    return perturbation.publish_cell(len(covered), sum(incident.record_key for incident in covered))


def counted_statistics(
    monkeypatch: pytest.MonkeyPatch, incidents: Sequence[Incident], perturbation: PerturbationTable
) -> PublicStatistics:
    monkeypatch.setattr(public, "count_tables", counting(incidents))
    return count_public_statistics(perturbation, today=TODAY)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(incidents=incidents_strategy, perturbation=st.sampled_from(PERTURBATIONS))
def test_every_public_number_is_the_publication_of_exactly_its_incidents(
    monkeypatch: pytest.MonkeyPatch, incidents: list[Incident], perturbation: PerturbationTable
) -> None:
    statistics = counted_statistics(monkeypatch, incidents, perturbation)
    shown = [incident for incident in incidents if incident.year <= TODAY.year]
    first = min((incident.year for incident in shown), default=TODAY.year)
    # Every year from the first counted one to this one, none hidden, none in the future.
    assert statistics.years == tuple(str(year) for year in range(first, TODAY.year + 1))
    tables = (statistics.by_month, statistics.by_type, statistics.by_land)
    columns = (MONTHS, TYPES, LANDS)
    for table, codes in zip(tables, columns, strict=True):
        assert (table.rows, table.columns) == (statistics.years, codes)
        assert table.k == perturbation.smallest_published == statistics.k
        assert all(value == 0 or value >= table.k for value in table.values.values())
        # The year totals are the same number in all three tables: the same incidents.
        for year in statistics.years:
            assert table.value(year) == published(perturbation, shown, year=int(year))
        assert table.value(TOTAL) == published(perturbation, shown)
    for year in statistics.years:
        for month in MONTHS:
            expected = published(perturbation, shown, year=int(year), month=int(month))
            assert statistics.by_month.value(year, month) == expected
        for code in TYPES:
            expected = published(perturbation, shown, year=int(year), type=code)
            assert statistics.by_type.value(year, code) == expected
        for code in LANDS:
            expected = published(perturbation, shown, year=int(year), land=code)
            assert statistics.by_land.value(year, code) == expected
    for code in TYPES:
        assert statistics.by_type.value(TOTAL, code) == published(perturbation, shown, type=code)
    versions = {incident.version for incident in incidents}
    assert statistics.codebook_versions == tuple(sorted(versions))
    assert statistics.made_on == TODAY


def test_a_year_without_incidents_is_a_published_zero_not_a_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A single incident in 2023, then nothing: 2024 to 2026 are shown as 0 (a small year is
    # perturbed, never withheld).
    incidents = [Incident(2023, 5, TYPES[0], LANDS[0], 17, "2026.2")]
    statistics = counted_statistics(monkeypatch, incidents, PERTURBATIONS[0])
    assert statistics.years == ("2023", "2024", "2025", "2026")
    for year in ("2024", "2025", "2026"):
        assert statistics.by_month.value(year) == 0
        assert statistics.by_land.value(year) == 0


def test_nothing_counted_publishes_this_year_alone_as_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    statistics = counted_statistics(monkeypatch, [], PERTURBATIONS[0])
    assert statistics.years == ("2026",)
    assert set(statistics.by_type.values.values()) == {0}
    assert statistics.codebook_versions == ()


def test_the_page_draws_only_values_of_the_protected_tables(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    incidents = [
        Incident(year, month, TYPES[n % 3], LANDS[n % 5], (n * 37) % 256, "2026.2")
        for n, (year, month) in enumerate(
            [(2024, 1)] * 3 + [(2025, 2)] * 12 + [(2026, 3)] * 9 + [(2025, 11)] * 6
        )
    ]
    statistics = counted_statistics(monkeypatch, incidents, PERTURBATIONS[0])
    with app.test_request_context():
        every_year = public_page(statistics, ALL_YEARS, "en")
        one_year = public_page(statistics, "2025", "de")
    assert [(bar.key, bar.value) for bar in every_year.yearly] == [
        (year, statistics.by_month.value(year)) for year in ("2024", "2025", "2026")
    ]
    # The last 24 months up to this one, from the years that are published.
    assert [bar.key for bar in every_year.monthly] == [
        f"{year}-{month:02d}" for year, month in
        [(2024, m) for m in range(4, 13)] + [(2025, m) for m in range(1, 13)] + [(2026, 1),
                                                                                  (2026, 2),
                                                                                  (2026, 3)]
    ]  # fmt: skip
    assert len(every_year.monthly) == RECENT_MONTHS
    for bar in every_year.monthly:
        year, month = bar.key.split("-")
        assert bar.value == statistics.by_month.value(year, month)
    assert [(bar.key, bar.value) for bar in every_year.by_type] == [
        (code, statistics.by_type.value(TOTAL, code)) for code in TYPES
    ]
    assert every_year.by_land == {code: statistics.by_land.value(TOTAL, code) for code in LANDS}
    assert [(bar.key, bar.value) for bar in one_year.by_type] == [
        (code, statistics.by_type.value("2025", code)) for code in TYPES
    ]
    assert one_year.by_land == {code: statistics.by_land.value("2025", code) for code in LANDS}
    assert one_year.by_type[0].label != every_year.by_type[0].label  # German, then English
    assert [bar.value for bar in one_year.by_land_bars] == list(one_year.by_land.values())


def test_partial_years_and_months_are_marked_and_months_before_the_data_are_not_drawn(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    incidents = [Incident(2025, 5, TYPES[0], LANDS[0], n, "2026.3") for n in range(6)]
    statistics = counted_statistics(monkeypatch, incidents, PERTURBATIONS[0])
    assert statistics.data_begin == dt.date(2025, 5, 1)
    with app.test_request_context():
        german = public_page(statistics, ALL_YEARS, "de")
        english = public_page(statistics, "2026", "en")
    assert [(bar.key, bar.note) for bar in german.yearly] == [
        ("2025", "ab 1. Mai 2025"),
        ("2026", "bis 15. März 2026"),
    ]
    assert german.yearly[1].full_label == "2026 (bis 15. März 2026)"
    # From the first month with data to this one: no month before, none after today.
    assert [bar.key for bar in german.monthly] == [f"2025-{m:02d}" for m in range(5, 13)] + [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert [bar.note for bar in german.monthly if bar.note] == ["bis 15. März 2026"]
    assert german.monthly[-1].key == "2026-03"
    assert (german.year_note, english.year_note) == ("", "until 15 March 2026")


def test_without_data_only_this_year_up_to_today_is_shown(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    statistics = counted_statistics(monkeypatch, [], PERTURBATIONS[0])
    assert statistics.data_begin is None
    with app.test_request_context():
        page = public_page(statistics, ALL_YEARS, "en")
    assert [(bar.key, bar.note) for bar in page.yearly] == [("2026", "until 15 March 2026")]
    assert [bar.key for bar in page.monthly] == ["2026-01", "2026-02", "2026-03"]


def test_the_page_never_names_a_month_whose_incidents_the_noise_hides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One incident in March, six in May: the data "begin" in March only if March's published
    number says so; a published 0 for March must not be contradicted by "from 1 March"."""
    may = [Incident(2025, 5, TYPES[0], LANDS[0], 1000 + n, "2026.3") for n in range(6)]
    seen = set()
    for key in range(200):
        march = Incident(2025, 3, TYPES[0], LANDS[0], key, "2026.3")
        statistics = counted_statistics(monkeypatch, [march, *may], PERTURBATIONS[0])
        published = statistics.by_month.value("2025", "03")
        expected = dt.date(2025, 3 if published else 5, 1)
        assert statistics.data_begin == expected, key
        seen.add(bool(published))
        if seen == {True, False}:
            break
    assert seen == {True, False}  # both cases were met
