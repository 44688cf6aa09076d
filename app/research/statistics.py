"""Counting coded incidents into tables that are safe to publish.

What is counted: incidents the moderators have coded, whose decision (``verification``) is one
of the statuses asked for — by default only "verified" — and that are no one's duplicate, so a
repeat report is counted once. Everything is counted by the moderators' coding (type, Land,
town, place, target); gender and age band are the reporter's own answers, which the moderators
do not assess. The period is the month in which the incident happened (its first day, for a
period), not the day it was reported.

Every table is two-dimensional at most (rows, optionally columns) with its totals, and is
protected by ``disclosure.protect_table`` before anyone sees it: no published number is between
1 and k-1, and the totals do not give a suppressed number away.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, extract, func, select

from app.codebook import Codebook, current_codebook
from app.dates import EARLIEST_DATE, LATEST_DATE, iso_month, next_month
from app.extensions import db
from app.models import CaseCode, Incident
from app.models.incident import NOT_VERIFIABLE, VERIFIED
from app.research.disclosure import TOTAL, ProtectedTable, protect_table

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
NOT_STATED: Final = "not_stated"  # gender, age band or town not given
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


@dataclass(frozen=True)
class StatisticsTable:
    """A protected table with everything a reader needs to interpret it."""

    query: StatisticsQuery
    rows: tuple[Category, ...]
    columns: tuple[Category, ...]
    protected: ProtectedTable
    codebook_versions: tuple[str, ...]  # the versions the counted incidents were coded with
    made_on: dt.date

    @property
    def k(self) -> int:
        return self.protected.k

    def value(self, row: str, column: str = TOTAL) -> int | None:
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
            if name == "town":
                condition = condition | (column == "other")
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
    """SELECT the counted incidents of ``query`` grouped by ``dimensions``.

    Each row holds, in order: per dimension its code (the period as year and month), then the
    codebook version the incidents were coded with, then the count.
    """
    selected: list[Any] = []
    for dimension in dimensions:
        if dimension == PERIOD:
            selected += [extract("year", Incident.date_from), extract("month", Incident.date_from)]
        else:
            selected.append(_dimension_column(dimension, query.types))
    selected.append(Incident.coded_codebook_version)
    statement = select(*selected, func.count()).where(*counted_incidents(query))
    if query.types == EVERY_TYPE:
        statement = statement.join(
            CaseCode,
            (CaseCode.incident_id == Incident.id) & (CaseCode.question == "incident_types"),
        )
    return statement.group_by(*selected)


def _code_of(dimension: str, value: Any) -> str:
    if value is None or (dimension == "town" and value == "other"):
        return NOT_STATED
    return str(value)


@dataclass(frozen=True)
class CountedCells:
    """The raw counts of a table: never show these before ``protect_table``."""

    counts: dict[tuple[str, str], int]  # keyed (row code, column code or TOTAL)
    codebook_versions: tuple[str, ...]  # the versions the counted incidents were coded with
    first_month: str | None  # the earliest month counted ("YYYY-MM"), None if nothing was


def count_cells(query: StatisticsQuery) -> CountedCells:
    """The raw counts of the query's table (see ``CountedCells``)."""
    dimensions = [query.rows] + ([query.columns] if query.columns else [])
    counts: dict[tuple[str, str], int] = defaultdict(int)
    versions: set[str] = set()
    months: set[str] = set()
    for found in db.session.execute(count_statement(query, dimensions)):
        values = list(found)
        count, version = int(values.pop()), values.pop()
        key: list[str] = []
        for dimension in dimensions:
            if dimension == PERIOD:
                year, month = int(values.pop(0)), int(values.pop(0))
                key.append(_period_code(year, month, query.granularity))
                months.add(f"{year:04d}-{month:02d}")
            else:
                key.append(_code_of(dimension, values.pop(0)))
        counts[(key[0], key[1] if len(key) > 1 else TOTAL)] += count
        if version:
            versions.add(str(version))
    return CountedCells(dict(counts), tuple(sorted(versions)), min(months, default=None))


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
        return str(_("nicht angegeben") if dimension != "town" else _("andere Orte"))
    if dimension == "verification":
        return str(VERIFICATION_LABELS[code])
    question = DIMENSION_QUESTIONS[dimension]
    if question is None:
        return code
    return str(codebook.question(question).answer(code).label(lang))


def _categories(
    dimension: str, codes: Sequence[str], codebook: Codebook, lang: str
) -> tuple[Category, ...]:
    return tuple(Category(code, category_label(dimension, code, codebook, lang)) for code in codes)


def build_table(
    query: StatisticsQuery, *, k: int, today: dt.date, lang: str = "de"
) -> StatisticsTable:
    """Count and protect the table ``query`` asks for. Only the result may be shown."""
    codebook = current_codebook()
    counted = count_cells(query)

    def codes(dimension: str) -> tuple[str, ...]:
        if dimension == PERIOD:
            return period_codes(query, counted.first_month, today)
        return dimension_codes(dimension, codebook)

    rows = codes(query.rows)
    columns = codes(query.columns) if query.columns else ()
    # Counts outside the listed categories cannot happen for codes (the codebook lists them
    # all) but can for periods in the future; they are dropped rather than published.
    kept = {key: n for key, n in counted.counts.items()
            if key[0] in rows and (key[1] in columns if columns else key[1] == TOTAL)}  # fmt: skip
    return StatisticsTable(
        query=query,
        rows=_categories(query.rows, rows, codebook, lang),
        columns=_categories(query.columns, columns, codebook, lang) if query.columns else (),
        protected=protect_table(kept, rows, columns, k),
        codebook_versions=counted.codebook_versions,
        made_on=today,
    )
