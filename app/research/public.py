"""The public statistics: a fixed set of tables, counted for each view.

Three tables by year: year × month, year × most severe type, year × Land, each protected by the
same ``protect_table`` as the research area and the API. A cell here and the same incidents
asked for there are the same published number: the page's year × month cell is the API's
month, its year totals the API's years (cells and totals alike are perturbed by their own
incidents' record keys, so the three tables' year totals agree with each other too).
Only verified incidents count here.

The year and the month of today are counted up to today, and the year the data begin in from
the first month with a counted incident: their labels say so (app/research/periods.py). Months
that have not begun are not drawn at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from flask import Flask

from app.codebook import current_codebook
from app.research.charts import Bar
from app.research.disclosure import (
    TOTAL,
    Cell,
    ProtectedTable,
    protect_table,
    statistics_perturbation,
)
from app.research.periods import PeriodCoverage, partial_note, period_coverage
from app.research.perturbation import PerturbationTable
from app.research.statistics import PERIOD, TYPE, StatisticsQuery, count_tables

MONTHS: Final = tuple(f"{number:02d}" for number in range(1, 13))


@dataclass(frozen=True)
class PublicStatistics:
    """The protected tables of the public page (codes only; labels are the template's job)."""

    years: tuple[str, ...]  # from the first year with a counted incident to this one
    by_month: ProtectedTable  # years × months "01".."12"
    by_type: ProtectedTable  # years × most severe type
    by_land: ProtectedTable  # years × Land
    codebook_versions: tuple[str, ...]
    made_on: dt.date
    # The 1st of the first month of the first year whose published number is not 0 (see
    # ``published_data_begin``); None when nothing is counted.
    data_begin: dt.date | None = None

    @property
    def k(self) -> int:
        return self.by_month.k

    def coverage(self, period: str) -> PeriodCoverage:
        """The days a year ("2026") or month ("2026-11") of the page counts."""
        return period_coverage(period, self.data_begin, self.made_on)


def count_public_statistics(
    perturbation: PerturbationTable, *, today: dt.date, from_incidents: bool = False
) -> PublicStatistics:
    """Count and protect the public tables (read from the pre-aggregated counts in one
    statement, a few thousand rows; ``from_incidents``: counted from the incidents instead)."""
    codebook = current_codebook()
    # Verified incidents only, by the most severe type; months for the first table, years for
    # the others.
    monthly, yearly = StatisticsQuery(granularity="month"), StatisticsQuery(granularity="year")
    counted = count_tables(
        [(monthly, [PERIOD]), (yearly, [PERIOD, TYPE]), (yearly, [PERIOD, "land"])],
        from_incidents=from_incidents,
    )
    by_year: list[dict[tuple[str, str], Cell]] = []
    for table in counted:
        split: dict[tuple[str, str], Cell] = defaultdict(lambda: Cell(0, 0))
        for (period, *code), cell in table.cells.items():
            year, _, month = period.partition("-")
            if year > f"{today.year:04d}":
                continue  # a wrongly coded future date is not published
            key = (year, code[0] if code else month)
            split[key] = Cell(split[key].count + cell.count, split[key].key_sum + cell.key_sum)
        by_year.append(split)
    first = min((key[0] for key in by_year[0]), default=f"{today.year:04d}")
    years = tuple(f"{number:04d}" for number in range(int(first), today.year + 1))
    codes = (MONTHS, codebook.question("incident_types").codes, codebook.question("land").codes)
    by_month, by_type, by_land = (
        protect_table(cells, years, columns, perturbation)
        for cells, columns in zip(by_year, codes, strict=True)
    )
    versions = {version for table in counted for version in table.codebook_versions}
    return PublicStatistics(
        years=years,
        by_month=by_month,
        by_type=by_type,
        by_land=by_land,
        codebook_versions=tuple(sorted(versions)),
        made_on=today,
        data_begin=published_data_begin(by_month, years) if counted[0].first_month else None,
    )


def published_data_begin(by_month: ProtectedTable, years: tuple[str, ...]) -> dt.date:
    """The 1st of the first month whose published number is not 0, as the page tells it.

    Not the first month with a counted incident: a published 0 may stand for a few incidents,
    and naming the month they fell in would tell what the noise hides. Without such a month in
    the first year, the data begin with that year.
    """
    first_year = years[0]
    for month in MONTHS:
        if by_month.value(first_year, month) > 0:
            return dt.date(int(first_year), int(month), 1)
    return dt.date(int(first_year), 1, 1)


def public_statistics(app: Flask, *, today: dt.date) -> PublicStatistics:
    """The public tables, counted for this request.

    No cache: the pre-aggregated counts are current in every transaction and shared by every
    worker and node, and counting the three tables from them reads a few thousand rows.
    """
    return count_public_statistics(statistics_perturbation(app), today=today)


# --- What the page draws ----------------------------------------------------------------------

ALL_YEARS: Final = TOTAL
RECENT_MONTHS: Final = 24


@dataclass(frozen=True)
class PublicPage:
    """The charts' bars for one view of the page (all years, or one year)."""

    year: str  # a year, or ALL_YEARS
    year_note: str  # what the label of a partial year adds ("bis 1. Dezember 2026"), or ""
    yearly: list[Bar]
    monthly: list[Bar]  # the last RECENT_MONTHS months up to this one
    by_type: list[Bar]
    by_land: dict[str, int]
    land_labels: dict[str, str]

    @property
    def by_land_bars(self) -> list[Bar]:
        return [Bar(code, self.land_labels[code], value) for code, value in self.by_land.items()]


def public_page(statistics: PublicStatistics, year: str, lang: str) -> PublicPage:
    """Bars for the charts; every value comes from the protected tables, nothing else."""
    codebook = current_codebook()
    types = codebook.question("incident_types")
    lands = codebook.question("land")
    months: list[Bar] = []
    today = statistics.made_on
    for back in range(RECENT_MONTHS - 1, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        month_year, month = f"{index // 12:04d}", f"{index % 12 + 1:02d}"
        begun = statistics.data_begin is None or (
            f"{month_year}-{month}" >= f"{statistics.data_begin:%Y-%m}"
        )
        # Months before the data begin are not drawn, as the research tables do not list them.
        if month_year in statistics.years and begun:
            value = statistics.by_month.value(month_year, month)
            note = partial_note(statistics.coverage(f"{month_year}-{month}"), lang)
            months.append(Bar(f"{month_year}-{month}", f"{month}/{month_year}", value, note))
    return PublicPage(
        year=year,
        year_note=partial_note(statistics.coverage(year), lang) if year != ALL_YEARS else "",
        yearly=[
            Bar(
                row,
                row,
                statistics.by_month.value(row),
                partial_note(statistics.coverage(row), lang),
            )
            for row in statistics.years
        ],  # fmt: skip
        monthly=months,
        by_type=[
            Bar(code, types.answer(code).label(lang), statistics.by_type.value(year, code))
            for code in types.codes
        ],
        by_land={code: statistics.by_land.value(year, code) for code in lands.codes},
        land_labels={code: lands.answer(code).label(lang) for code in lands.codes},
    )
