"""Counting coded incidents into tables that are safe to publish.

What is counted: incidents the moderators have coded, whose decision (``verification``) is one
of the statuses asked for — by default only "verified" — and that are no one's duplicate, so a
repeat report is counted once. Everything is counted by the moderators' coding (type, Land,
town, place, target); gender and age band are the reporter's own answers, which the moderators
do not assess. The period is the month in which the incident happened (its first day, for a
period), not the day it was reported.

Every table is two-dimensional at most (rows, optionally columns) with its totals, and is
protected by ``disclosure.protect_table`` before anyone sees it: every cell and total is
perturbed by the cell-key method, and no published number is between 1 and k-1.

The counts come from the pre-aggregated ``statistics_count`` (``app/research/counts.py``), which
the database keeps current with every change; ``count_statement`` counts the same from the
incidents themselves (while the counts are suspended, and to check them). Each cell comes with
the sum of its incidents' record keys, for the cell-key method; neither is ever shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    extract,
    func,
    literal_column,
    select,
    text,
    union_all,
)

from app.codebook import Codebook, current_codebook
from app.dates import EARLIEST_DATE, LATEST_DATE, iso_month, next_month
from app.extensions import db
from app.models import CaseCode, Incident, StatisticsCount, StatisticsState
from app.models.incident import NOT_VERIFIABLE, VERIFIED
from app.models.statistics import NOT_GIVEN
from app.research import counts
from app.research.disclosure import (
    TOTAL,
    Cell,
    ProtectedTable,
    protect_table,
    statistics_perturbation,
)
from app.research.periods import PeriodCoverage, period_coverage, period_label
from app.research.perturbation import PerturbationTable

PERIOD = "period"
TYPE = "type"
# Dimensions a table can be grouped by, with the codebook question that names their codes.
DIMENSION_QUESTIONS: Final[Mapping[str, str | None]] = {
    PERIOD: None,
    TYPE: "incident_types",
    "land": "land",
    "town": "town",
    "place_type": "place_type",
    "target": "target",
    "gender": "gender",
    "age_band": "age_band",
    "verification": None,
}
DIMENSIONS: Final = tuple(DIMENSION_QUESTIONS)
# Filters take the codes of a dimension; the period is filtered by ``from``/``to`` and the
# verification by its own parameter (which also says what is counted at all) instead.
FILTERS: Final = tuple(name for name in DIMENSIONS if name not in (PERIOD, "verification"))
GRANULARITIES: Final = ("year", "quarter", "month")
# Every URL parameter ``parse_query`` reads (filters take one dimension's codes each).
QUERY_PARAMETERS: Final = frozenset(
    {"rows", "columns", "period", "types", "verification", "from", "to", *FILTERS}
)
MOST_SEVERE, EVERY_TYPE = "most_severe", "every"
TYPE_MODES: Final = (MOST_SEVERE, EVERY_TYPE)
# Only the moderators' positive and undecided-but-plausible outcomes may be counted; "out of
# scope" (not an anti-Muslim incident) never is.
COUNTABLE: Final = (VERIFIED, NOT_VERIFIABLE)
NOT_STATED: Final = "not_stated"  # gender, age band or town not given (not: a town "other")
MAX_CODES_PER_FILTER = 100
# Parameters that take a comma-separated list of codes.
LISTS: Final = frozenset({"verification", *FILTERS})

VERIFICATION_LABELS: Final = {
    VERIFIED: _l("vom Moderationsteam bestätigt"),
    NOT_VERIFIABLE: _l("plausibel, aber nicht überprüfbar"),
}


class InvalidStatisticsQuery(ValueError):
    """A table cannot be built as asked; ``parameter`` names the offending query parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class StatisticsQuery:
    """Which table to count: its dimensions and which incidents go into it."""

    rows: str = PERIOD
    columns: str | None = None
    granularity: str = "year"
    types: str = MOST_SEVERE
    verification: tuple[str, ...] = (VERIFIED,)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    first_month: str | None = None  # "YYYY-MM", inclusive
    last_month: str | None = None

    def as_parameters(self) -> dict[str, str]:
        """The query as URL parameters (what ``parse_query`` reads back)."""
        parameters = {"rows": self.rows, "period": self.granularity, "types": self.types,
                      "verification": ",".join(self.verification)}  # fmt: skip
        if self.columns:
            parameters["columns"] = self.columns
        if self.first_month:
            parameters["from"] = self.first_month
        if self.last_month:
            parameters["to"] = self.last_month
        for name, codes in sorted(self.filters.items()):
            parameters[name] = ",".join(codes)
        return parameters


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    # For a period: the days it counts (partial at the two ends of the data).
    coverage: PeriodCoverage | None = None


@dataclass(frozen=True)
class StatisticsTable:
    """A protected table with everything a reader needs to interpret it."""

    query: StatisticsQuery
    rows: tuple[Category, ...]
    columns: tuple[Category, ...]
    protected: ProtectedTable
    # The versions every countable incident was coded with (not only this table's: see
    # ``EXTENT``).
    codebook_versions: tuple[str, ...]
    made_on: dt.date

    @property
    def k(self) -> int:
        return self.protected.k

    def value(self, row: str, column: str = TOTAL) -> int:
        return self.protected.value(row, column)


def _split(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def _choice(args: Mapping[str, str], name: str, default: str, allowed: Sequence[str]) -> str:
    value = args.get(name, default) or default
    if value not in allowed:
        raise InvalidStatisticsQuery(
            name,
            _(
                "„%(name)s“ muss einer dieser Werte sein: %(allowed)s.",
                name=name,
                allowed=", ".join(allowed),
            ),
        )
    return value


def _month(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    if iso_month(value) is None:
        raise InvalidStatisticsQuery(
            name,
            _(
                "„%(name)s“ ist ein Monat in der Form JJJJ-MM von %(first)s bis %(last)s, "
                "z. B. 2025-03.",
                name=name,
                first=EARLIEST_DATE.strftime("%Y-%m"),
                last=LATEST_DATE.strftime("%Y-%m"),
            ),
        )
    return value


# The months a period of each length may start and end with: ranges stay on the grid of whole
# periods, so that two overlapping ranges cannot be differenced into a single month.
GRID_STARTS: Final = {"year": (1,), "quarter": (1, 4, 7, 10), "month": tuple(range(1, 13))}
GRID_ENDS: Final = {"year": (12,), "quarter": (3, 6, 9, 12), "month": tuple(range(1, 13))}


def _check_on_the_grid(granularity: str, first: str | None, last: str | None) -> None:
    """``from`` starts and ``to`` ends a whole period of the table's length.

    Raises:
        InvalidStatisticsQuery: naming ``from`` or ``to``.
    """
    for name, month, allowed in (("from", first, GRID_STARTS), ("to", last, GRID_ENDS)):
        if month is not None and int(month[5:7]) not in allowed[granularity]:
            months = ", ".join(f"{number:02d}" for number in allowed[granularity])
            raise InvalidStatisticsQuery(
                name,
                _(
                    "Bei Zeiträumen der Länge „%(period)s“ muss „%(name)s“ auf einen dieser "
                    "Monate fallen: %(months)s.",
                    period=granularity,
                    name=name,
                    months=months,
                ),
            )


def dimension_codes(dimension: str, codebook: Codebook) -> tuple[str, ...]:
    """Every code of a dimension (not the period), in the codebook's order."""
    if dimension == "verification":
        return COUNTABLE
    question = DIMENSION_QUESTIONS[dimension]
    if question is None:
        raise ValueError("the period has no fixed codes")
    codes = codebook.question(question).codes
    if dimension in ("gender", "age_band", "town"):
        return (*codes, NOT_STATED)
    return codes


def listed_codes(dimension: str, query: StatisticsQuery, codebook: Codebook) -> tuple[str, ...]:
    """The categories a table lists for ``dimension`` (not the period): every code, except
    that a table filtered to some Länder lists only their towns (and the towns without a Land:
    "another place" and "not given"), not every town of the country as a row of zeros.

    A town coded under another Land than its own is then not in the table, as a future month
    is not: such a cell is dropped, never published.
    """
    codes = dimension_codes(dimension, codebook)
    lands = query.filters.get("land")
    if dimension != "town" or not lands:
        return codes
    town = codebook.question("town")
    return tuple(code for code in codes
                 if code == NOT_STATED or town.answer(code).land in (None, *lands))  # fmt: skip


def _check_written_exactly(args: Mapping[str, str]) -> None:
    """Each parameter given has a value without spaces around it (or around a listed code)."""
    for name in sorted(QUERY_PARAMETERS & set(args)):
        value = args[name]
        parts = value.split(",") if name in LISTS else [value]
        if not all(part and part == part.strip() for part in parts):
            raise InvalidStatisticsQuery(
                name, _("„%(name)s“ ist leer oder enthält Leerzeichen.", name=name)
            )


def parse_query(
    args: Mapping[str, str], codebook: Codebook | None = None, *, strict: bool = False
) -> StatisticsQuery:
    """Read a table request from URL parameters (the research form and the API share it).

    Parameters: ``rows`` and ``columns`` (dimensions, different), ``period`` (year, quarter,
    month), ``types`` (most_severe: each incident once, by its most severe type; every: once
    per coded type), ``verification`` (comma-separated: verified, not_verifiable), ``from``
    and ``to`` (months from 1990-01 to 2099-12, inclusive) and one filter per dimension with
    comma-separated codes. The form leaves fields empty and may pad them with spaces; the API
    (``strict``) takes every parameter exactly as its OpenAPI document writes it.

    Raises:
        InvalidStatisticsQuery: naming the first parameter that is not understood.
    """
    codebook = codebook or current_codebook()
    if strict:
        _check_written_exactly(args)
    rows = _choice(args, "rows", PERIOD, DIMENSIONS)
    columns = args.get("columns", "") or None
    if columns is not None:
        columns = _choice(args, "columns", "", [d for d in DIMENSIONS if d != rows])
    verification = _split(args.get("verification", "") or VERIFIED)
    if not verification or not set(verification) <= set(COUNTABLE):
        raise InvalidStatisticsQuery(
            "verification",
            _("„verification“ nimmt %(allowed)s.", allowed=", ".join(COUNTABLE)),
        )
    filters: dict[str, tuple[str, ...]] = {}
    for name in FILTERS:
        if not args.get(name):
            continue
        codes = _split(args[name])
        unknown = set(codes) - set(dimension_codes(name, codebook))
        if unknown or len(codes) > MAX_CODES_PER_FILTER:
            raise InvalidStatisticsQuery(
                name,
                _(
                    "Unbekannter Wert für „%(name)s“: %(value)s.",
                    name=name,
                    value=", ".join(sorted(unknown)[:3]),
                ),
            )
        filters[name] = codes
    first_month, last_month = _month(args, "from"), _month(args, "to")
    if first_month and last_month and first_month > last_month:
        raise InvalidStatisticsQuery("to", _("„to“ liegt vor „from“."))
    granularity = _choice(args, "period", "year", GRANULARITIES)
    _check_on_the_grid(granularity, first_month, last_month)
    return StatisticsQuery(
        rows=rows,
        columns=columns,
        granularity=granularity,
        types=_choice(args, "types", MOST_SEVERE, TYPE_MODES),
        verification=tuple(code for code in COUNTABLE if code in verification),
        filters=filters,
        first_month=first_month,
        last_month=last_month,
    )


# --- Counting ---------------------------------------------------------------------------------


def _dimension_column(dimension: str, types: str) -> Any:
    columns: dict[str, Any] = {
        TYPE: CaseCode.code if types == EVERY_TYPE else Incident.coded_most_severe_type,
        "land": Incident.coded_land,
        "town": Incident.coded_town,
        "place_type": Incident.coded_place_type,
        "target": Incident.coded_target,
        "gender": Incident.gender,
        "age_band": Incident.age_band,
        "verification": Incident.verification,
    }
    return columns[dimension]


def _first_day(month: str) -> dt.date:
    year, number = month.split("-")
    return dt.date(int(year), int(number), 1)


def _after_last_day(month: str) -> dt.date:
    return next_month(_first_day(month))


def counted_incidents(query: StatisticsQuery) -> list[ColumnElement[bool]]:
    """The conditions that pick the incidents a table counts (see the module docstring)."""
    conditions: list[ColumnElement[bool]] = [
        Incident.coded_on.is_not(None),
        Incident.duplicate_of.is_(None),
        Incident.verification.in_(query.verification),
    ]
    for name, codes in query.filters.items():
        column = _dimension_column(name, query.types)
        known = [code for code in codes if code != NOT_STATED]
        condition: ColumnElement[bool] = column.in_(known)
        if NOT_STATED in codes:
            condition = condition | column.is_(None)
        conditions.append(condition)
    if query.first_month:
        conditions.append(Incident.date_from >= _first_day(query.first_month))
    if query.last_month:
        conditions.append(Incident.date_from < _after_last_day(query.last_month))
    return conditions


def _period_code(year: int, month: int, granularity: str) -> str:
    if granularity == "year":
        return f"{year:04d}"
    if granularity == "quarter":
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}-{month:02d}"


def count_statement(query: StatisticsQuery, dimensions: Sequence[str]) -> Select[Any]:
    """SELECT the counted incidents of ``query`` grouped by ``dimensions``, from the incidents
    themselves: what the pre-aggregated counts are checked against, and what is read while
    they are suspended (``app/research/counts.py``).

    Each row holds, in order: per dimension its code (the period as year and month), then the
    codebook version the incidents were coded with, then the count and the sum of the
    incidents' record keys.
    """
    selected: list[Any] = []
    for dimension in dimensions:
        if dimension == PERIOD:
            selected += [extract("year", Incident.date_from), extract("month", Incident.date_from)]
        else:
            selected.append(_dimension_column(dimension, query.types))
    selected.append(Incident.coded_codebook_version)
    statement = select(*selected, func.count(), func.sum(Incident.record_key)).where(
        *counted_incidents(query)
    )
    if query.types == EVERY_TYPE:
        statement = statement.join(
            CaseCode,
            (CaseCode.incident_id == Incident.id) & (CaseCode.question == "incident_types"),
        )
    return statement.group_by(*selected)


def _code_of(dimension: str, value: Any) -> str:
    # A town "not in the list" is the codebook's own answer ("other"), counted as such: it is
    # not the same as a town nobody gave.
    if value is None or value == NOT_GIVEN:
        return NOT_STATED
    return str(value)


@dataclass(frozen=True)
class CellCounts:
    """The counted cells of one table, keyed by one code per dimension in the order asked for
    (periods at the query's granularity, as ``count_cells`` keys them). Empty cells are left
    out. Never show these before the disclosure control."""

    cells: dict[tuple[str, ...], Cell]
    codebook_versions: tuple[str, ...]  # the versions the counted incidents were coded with
    first_month: str | None  # the earliest month counted ("YYYY-MM") if the period is a dimension


class _Tally:
    """Cells summed up as rows arrive (several rows can fall into one period or code)."""

    def __init__(self, with_period: bool) -> None:
        self.with_period = with_period
        self.counts: dict[tuple[str, ...], int] = defaultdict(int)
        self.key_sums: dict[tuple[str, ...], int] = defaultdict(int)
        self.versions: set[str] = set()
        self.months: set[str] = set()

    def add(self, key: tuple[str, ...], count: int, key_sum: int, version: str | None,
            month: str | None) -> None:  # fmt: skip
        self.counts[key] += count
        self.key_sums[key] += key_sum
        if version:
            self.versions.add(str(version))
        if month is not None and self.with_period:
            self.months.add(month)

    def result(self) -> CellCounts:
        cells = {key: Cell(count, self.key_sums[key]) for key, count in self.counts.items()
                 if count}  # fmt: skip
        return CellCounts(cells, tuple(sorted(self.versions)), min(self.months, default=None))


# Each dimension's column in ``statistics_count`` (the period is its ``month``).
COUNT_COLUMNS: Final[Mapping[str, str]] = {
    TYPE: "incident_type",
    "land": "land",
    "town": "town",
    "place_type": "place_type",
    "target": "target",
    "gender": "gender",
    "age_band": "age_band",
    "verification": "verification",
}


def _month_number(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 100 + int(number)


def _count_conditions(query: StatisticsQuery) -> list[ColumnElement[bool]]:
    """``counted_incidents`` on the counts: the decisions, filters and months asked for."""
    table = StatisticsCount
    conditions: list[ColumnElement[bool]] = [
        table.verification.in_(query.verification),
        table.count != 0,
    ]
    for name, codes in query.filters.items():
        column = getattr(table, COUNT_COLUMNS[name])
        known = [code for code in codes if code != NOT_STATED]
        condition: ColumnElement[bool] = column.in_(known)
        if NOT_STATED in codes:
            condition = condition | (column == NOT_GIVEN)
        conditions.append(condition)
    if query.first_month:
        conditions.append(table.month >= _month_number(query.first_month))
    if query.last_month:
        conditions.append(table.month <= _month_number(query.last_month))
    return conditions


# A table to count: the query (which incidents, at which granularity) and its dimensions.
CountedTable = tuple[StatisticsQuery, Sequence[str]]


def _period_start(month: Any, granularity: str) -> Any:
    """The first month (year * 100 + month) of the period that ``month`` falls in."""
    year = month // 100
    if granularity == "year":
        return year * 100 + 1
    if granularity == "quarter":
        return year * 100 + (month % 100 - 1) // 3 * 3 + 1
    return month


def _needed(query: StatisticsQuery, dimensions: Sequence[str]) -> set[str]:
    """The columns of ``statistics_count`` a table groups or filters by, besides the decision
    (which every grouping has)."""
    needed = {COUNT_COLUMNS[name] for name in [*dimensions, *query.filters]
              if name not in (PERIOD, "verification")}  # fmt: skip
    if PERIOD in dimensions or query.first_month or query.last_month:
        needed.add(counts.MONTH)
    return needed


def _table_statement(
    number: int,
    table: CountedTable,
    slots: int,
    groupings: Sequence[counts.Grouping],
) -> Select[Any] | None:
    """One table's cells from the smallest grouping that has its dimensions and filters, as
    (table number, first month of the period or 0, first month counted in it or 0, one code
    per other dimension padded to ``slots``, codebook version, count, key sum); None when no
    grouping has them."""
    query, dimensions = table
    grouping = counts.grouping_for(
        _needed(query, dimensions), every_type=query.types == EVERY_TYPE, among=groupings
    )
    if grouping is None:
        return None
    cells = StatisticsCount
    codes = [getattr(cells, COUNT_COLUMNS[name]) for name in dimensions if name != PERIOD]
    padding: list[Any] = [literal_column("''")] * (slots - len(codes))
    grouped: list[Any] = [*codes, cells.codebook_version]
    period: Any = literal_column("0")
    first: Any = literal_column("0")
    if PERIOD in dimensions:
        period, first = _period_start(cells.month, query.granularity), func.min(cells.month)
        grouped.append(period)
    return (
        select(literal_column(str(number)), period, first, *codes, *padding,
               cells.codebook_version, func.sum(cells.count), func.sum(cells.key_sum))
        .join(StatisticsState, counts.current_state())
        .where(cells.grouping_id == grouping.id, *_count_conditions(query))
        .group_by(*grouped)
    )  # fmt: skip


def _month_of_number(month_number: int) -> str:
    year, month = divmod(int(month_number), 100)
    return f"{year:04d}-{month:02d}"


def _tables_from_counts(tables: Sequence[CountedTable]) -> list[CellCounts] | None:
    """The tables from the pre-aggregated counts, in one statement (one state of the data on
    either database); None when they are suspended or no grouping fits."""
    slots = max(len([name for name in dimensions if name != PERIOD]) for _, dimensions in tables)
    groupings = counts.groupings()
    parts = [_table_statement(number, table, slots, groupings)
             for number, table in enumerate(tables)]  # fmt: skip
    if any(part is None for part in parts):
        return None
    statement = union_all(*(part for part in parts if part is not None))
    finest = max(len(grouping.dimensions) for grouping in groupings)
    read = [counts.grouping_for(_needed(query, dimensions), every_type=query.types == EVERY_TYPE,
                                among=groupings) for query, dimensions in tables]  # fmt: skip
    small = all(grouping is not None and len(grouping.dimensions) < finest for grouping in read)
    if small and db.session.get_bind().dialect.name == "postgresql":
        # At most a few hundred thousand rows: starting parallel workers would take longer
        # than the reading (for the rest of this transaction: a request that only reads).
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    rows = db.session.execute(statement).all()
    if not rows and not counts.counts_are_current():
        return None
    if not rows:  # suspended when read, current now: read again, once
        rows = db.session.execute(statement).all()
    tallies = [_Tally(PERIOD in dimensions) for _, dimensions in tables]
    for row in rows:
        number, period_start, first, *codes = row[: 3 + slots]
        version, count, key_sum = row[3 + slots :]
        query, dimensions = tables[int(number)]
        year, month = divmod(int(period_start), 100)
        remaining = iter(codes)
        key = tuple(_period_code(year, month, query.granularity) if name == PERIOD
                    else _code_of(name, next(remaining)) for name in dimensions)  # fmt: skip
        seen = _month_of_number(first) if PERIOD in dimensions else None
        tallies[int(number)].add(key, int(count), int(key_sum), version, seen)
    return [tally.result() for tally in tallies]


def _tables_from_incidents(tables: Sequence[CountedTable]) -> list[CellCounts]:
    """The tables counted from the incidents: one statement for all tables whose queries
    differ at most in their granularity (the public page's), else one per query."""
    tallies = [_Tally(PERIOD in dimensions) for _, dimensions in tables]
    together: list[tuple[StatisticsQuery, list[int]]] = []
    for number, (query, _dimensions) in enumerate(tables):
        monthly = replace(query, granularity="month")
        group = next((numbers for other, numbers in together if other == monthly), None)
        if group is None:
            together.append((monthly, [number]))
        else:
            group.append(number)
    for query, numbers in together:
        every = list(dict.fromkeys(name for number in numbers for name in tables[number][1]))
        for found in db.session.execute(count_statement(query, every)):
            values: list[Any] = list(found)
            key_sum, count, version = values.pop(), values.pop(), values.pop()
            codes: dict[str, str] = {}
            year = month = 0
            for name in every:
                if name == PERIOD:
                    year, month = int(values.pop(0)), int(values.pop(0))
                else:
                    codes[name] = _code_of(name, values.pop(0))
            for number in numbers:
                granularity, dimensions = tables[number][0].granularity, tables[number][1]
                key = tuple(_period_code(year, month, granularity) if name == PERIOD
                            else codes[name] for name in dimensions)  # fmt: skip
                seen = f"{year:04d}-{month:02d}" if PERIOD in dimensions else None
                tallies[number].add(key, int(count), int(key_sum or 0), version, seen)
    return [tally.result() for tally in tallies]


def count_tables(
    tables: Sequence[CountedTable], *, from_incidents: bool = False
) -> list[CellCounts]:
    """The counted cells of each (query, dimensions) of ``tables``, read together from one
    state of the data (the public page's linked tables must agree on their shared totals).

    Read from the pre-aggregated counts (``app/research/counts.py``): a few thousand rows
    instead of every counted incident. While the counts are suspended, or with
    ``from_incidents``, the incidents are counted instead; both give the same cells.
    Margins are not included: a margin's count and key sum are the sums over its cells.
    """
    if not tables:
        return []
    if not from_incidents:
        found = _tables_from_counts(tables)
        if found is not None:
            return found
    return _tables_from_incidents(tables)


def count_table(
    query: StatisticsQuery, dimensions: Sequence[str], *, from_incidents: bool = False
) -> CellCounts:
    """The counted cells of ``query`` by ``dimensions`` (see ``count_tables``)."""
    return count_tables([(query, dimensions)], from_incidents=from_incidents)[0]


@dataclass(frozen=True)
class CountedCells:
    """The raw counts of a table: never show these before ``protect_table``."""

    counts: dict[tuple[str, str], int]  # keyed (row code, column code or TOTAL)
    codebook_versions: tuple[str, ...]  # the versions the counted incidents were coded with
    first_month: str | None  # the earliest month counted ("YYYY-MM"), None if nothing was
    # The sums of the record keys, keyed like ``counts``: never shown.
    key_sums: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def cells(self) -> dict[tuple[str, str], Cell]:
        """Each counted cell's count and key sum, keyed like ``counts``."""
        return {key: Cell(count, self.key_sums[key]) for key, count in self.counts.items()}


def _dimensions(query: StatisticsQuery) -> list[str]:
    return [query.rows] + ([query.columns] if query.columns else [])


def _positioned(counted: CellCounts) -> CountedCells:
    """A table's counted cells keyed (row code, column code or TOTAL)."""
    counts: dict[tuple[str, str], int] = {}
    key_sums: dict[tuple[str, str], int] = {}
    for key, cell in counted.cells.items():
        position = (key[0], key[1] if len(key) > 1 else TOTAL)
        counts[position], key_sums[position] = cell.count, cell.key_sum
    return CountedCells(counts, counted.codebook_versions, counted.first_month, key_sums)


def count_cells(query: StatisticsQuery, *, from_incidents: bool = False) -> CountedCells:
    """The raw counts of the query's table (see ``CountedCells`` and ``count_tables``)."""
    return _positioned(count_table(query, _dimensions(query), from_incidents=from_incidents))


def _month_code(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_codes(
    query: StatisticsQuery, first_counted: str | None, today: dt.date
) -> tuple[str, ...]:
    """Every period from the first asked-for (or counted) month to the last, gaps included:
    a month without incidents is a published 0, not a missing row. Never past ``today``."""
    this_month = _month_code(today)
    first = query.first_month or first_counted
    last = min(query.last_month or this_month, this_month)
    if first is None or last < first:
        return ()
    codes: list[str] = []
    day, end = _first_day(first), _first_day(last)
    while day <= end:
        code = _period_code(day.year, day.month, query.granularity)
        if not codes or codes[-1] != code:
            codes.append(code)
        day = _after_last_day(_month_code(day))
    return tuple(codes)


def category_label(dimension: str, code: str, codebook: Codebook, lang: str) -> str:
    """The label people read for ``code`` of ``dimension`` (not the period: its code is shown)."""
    if code == NOT_STATED:
        return str(
            _("nicht angegeben")
            if dimension != "town"
            else _("Stadt oder Gemeinde nicht angegeben")
        )
    if dimension == "verification":
        return str(VERIFICATION_LABELS[code])
    question = DIMENSION_QUESTIONS[dimension]
    if question is None:
        return code
    return str(codebook.question(question).answer(code).label(lang))


def _categories(
    dimension: str,
    codes: Sequence[str],
    codebook: Codebook,
    lang: str,
    *,
    data_begin: dt.date | None,
    today: dt.date,
) -> tuple[Category, ...]:
    if dimension == PERIOD:
        coverages = [period_coverage(code, data_begin, today) for code in codes]
        return tuple(Category(c.code, period_label(c.code, c, lang), c) for c in coverages)
    return tuple(Category(code, category_label(dimension, code, codebook, lang)) for code in codes)


# Every countable incident by month: a table's first period and codebook versions come from
# it, whatever the table filters. Its own first month or versions would tell that its filtered
# set is not empty, which a published 0 must not (the smallest grouping: a hundred rows).
EXTENT: Final[CountedTable] = (
    StatisticsQuery(verification=COUNTABLE, granularity="month"),
    (PERIOD,),
)


def build_table(
    query: StatisticsQuery,
    *,
    today: dt.date,
    lang: str = "de",
    perturbation: PerturbationTable | None = None,
) -> StatisticsTable:
    """Count and protect the table ``query`` asks for. Only the result may be shown.

    ``perturbation``: the configured one (``statistics_perturbation``) unless given.
    """
    codebook = current_codebook()
    table, extent = count_tables([(query, _dimensions(query)), EXTENT])  # one statement
    counted = _positioned(table)

    def codes(dimension: str) -> tuple[str, ...]:
        if dimension == PERIOD:
            return period_codes(query, extent.first_month, today)
        return listed_codes(dimension, query, codebook)

    rows = codes(query.rows)
    columns = codes(query.columns) if query.columns else ()
    # Counts outside the listed categories can happen for periods in the future and for towns
    # coded under another Land than the one filtered for; they are dropped, never published.
    kept = {key: cell for key, cell in counted.cells.items()
            if key[0] in rows and (key[1] in columns if columns else key[1] == TOTAL)}  # fmt: skip
    data_begin = _first_day(extent.first_month) if extent.first_month else None

    def categories(dimension: str, codes: Sequence[str]) -> tuple[Category, ...]:
        return _categories(dimension, codes, codebook, lang, data_begin=data_begin, today=today)

    return StatisticsTable(
        query=query,
        rows=categories(query.rows, rows),
        columns=categories(query.columns, columns) if query.columns else (),
        protected=protect_table(kept, rows, columns, perturbation or statistics_perturbation()),
        codebook_versions=extent.codebook_versions,
        made_on=today,
    )
