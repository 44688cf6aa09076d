"""The pre-aggregated counts behind every statistics table: which exist, rebuilding, checking.

``statistics_count`` holds, for each grouping of ``statistics_grouping`` and each of its cells,
how many counted incidents are in the cell and the sum of their record keys (the cell-key
method's cell key is derived from that sum). Counted are the incidents the statistics count
(``statistics.counted_incidents``: coded, decided verified or not verifiable, no one's
duplicate), by the month they happened, their decision, codebook version and the grouping's
dimensions; a grouping of "every coded type" counts an incident once per coded type.

The database keeps the counts current itself: triggers on ``incident`` and ``case_code``
(migration 4b7e2d9a1c35) move an incident's contribution in the statement that changes it, so
no service, bulk statement or foreign-key action can forget to, every worker and node reads the
same counts, and a rolled-back change leaves them as they were. On PostgreSQL the triggers take
one advisory lock per transaction before they touch a count (changes that count anything wait for
each other instead of deadlocking) and a case code's trigger locks its incident's row.

A bulk load may instead ``suspend_statistics_counts()`` and ``rebuild_statistics_counts()`` at
the end (the demo generator does); in between the triggers do nothing and readers count the
incidents themselves. A rebuild first waits for (and holds off) every writer of incidents and
case codes, so no change made while the counts were suspended is missed.
``statistics_count_differences()`` compares every stored cell with a fresh count of the
incidents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
    text,
    update,
)

from app.extensions import db
from app.models import CaseCode, Incident, StatisticsCount, StatisticsGrouping, StatisticsState
from app.models.incident import NOT_VERIFIABLE, VERIFIED
from app.models.statistics import ALL_VALUES, NOT_GIVEN

# statistics_count column -> the incident column it is read from (for the most severe type).
SOURCES: Final[Mapping[str, str]] = {
    "incident_type": "coded_most_severe_type",
    "land": "coded_land",
    "town": "coded_town",
    "place_type": "coded_place_type",
    "target": "coded_target",
    "gender": "gender",
    "age_band": "age_band",
}
MONTH: Final = "month"  # a grouping's dimension too: two groupings sum over all months
COUNTED_DECISIONS: Final = (VERIFIED, NOT_VERIFIABLE)
# The migration's triggers take the same lock (pg_advisory_xact_lock).
ADVISORY_LOCK: Final = 7240131
STATE_ID: Final = 1


@dataclass(frozen=True)
class Grouping:
    """One set of counts: split by ``dimensions`` (statistics_count columns, the month
    included where it is split by) besides decision and codebook version; ``every_type``: once
    per coded type, not per incident."""

    id: int
    every_type: bool
    dimensions: frozenset[str]

    def covers(self, dimensions: set[str]) -> bool:
        return dimensions <= self.dimensions


def groupings() -> list[Grouping]:
    """Every grouping, smallest first within each kind (the migrations number them so)."""
    table = StatisticsGrouping
    names = [MONTH, *SOURCES]
    flags = [getattr(table, f"by_{column}") for column in names]
    rows = db.session.execute(select(table.id, table.every_type, *flags).order_by(table.id))
    return [
        Grouping(
            int(row[0]),
            bool(row[1]),
            frozenset(column for column, flag in zip(names, row[2:], strict=True) if flag),
        )
        for row in rows
    ]


def grouping_for(
    dimensions: set[str], *, every_type: bool, among: Sequence[Grouping] | None = None
) -> Grouping | None:
    """The smallest grouping of the kind (``among`` those given, or all) that has every one of
    ``dimensions``, if any."""
    for grouping in groupings() if among is None else among:
        if grouping.every_type == every_type and grouping.covers(dimensions):
            return grouping
    return None


def counts_are_current() -> bool:
    """False while a bulk load has suspended the counts (see the module docstring)."""
    current = db.session.scalar(
        select(StatisticsState.counts_current).where(StatisticsState.id == STATE_ID)
    )
    return bool(current)


def current_state() -> ColumnElement[bool]:
    """A join condition that keeps rows only while the counts are current: read in the same
    statement as the counts, so both come from one state of the database."""
    return (StatisticsState.id == STATE_ID) & StatisticsState.counts_current.is_(True)


def _take_turn(*, stop_writers: bool = False) -> None:
    """On PostgreSQL, wait for every transaction that changes counts to end, and make later
    ones wait for this one; with ``stop_writers``, every transaction that writes incidents or
    case codes at all (one that skipped the counts while they were suspended included). SQLite
    has one writer at a time anyway."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    if stop_writers:  # before the advisory lock: a writer may be waiting for that one
        db.session.execute(text("LOCK TABLE incident, case_code IN SHARE MODE"))
    db.session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": ADVISORY_LOCK})


def suspend_statistics_counts() -> None:
    """Stop keeping the counts current until ``rebuild_statistics_counts()``: for bulk loads,
    which would otherwise pay a trigger per row. Readers count the incidents meanwhile."""
    _take_turn()
    db.session.execute(
        update(StatisticsState).where(StatisticsState.id == STATE_ID).values(counts_current=False)
    )


def month_of(day: Any) -> ColumnElement[int]:
    """The month a date falls in, as year * 100 + month (as the triggers compute it)."""
    return cast(extract("year", day) * 100 + extract("month", day), Integer)


def counted() -> list[ColumnElement[bool]]:
    """The incidents the counts hold (every decision that may be counted)."""
    return [
        Incident.coded_on.is_not(None),
        Incident.duplicate_of.is_(None),
        Incident.verification.in_(COUNTED_DECISIONS),
    ]


def cells_from_incidents(grouping: Grouping) -> Select[Any]:
    """The grouping's cells counted afresh from the incidents: the columns of
    ``statistics_count`` in order (grouping id first, then the key, count and key sum)."""
    month = month_of(Incident.date_from)
    version = func.coalesce(Incident.coded_codebook_version, NOT_GIVEN)
    key: list[Any] = [Incident.verification, version]
    if MONTH in grouping.dimensions:
        key.append(month)
    dimensions: list[Any] = []
    for column, source in SOURCES.items():
        if column not in grouping.dimensions:
            dimensions.append(literal(ALL_VALUES))
            continue
        value = CaseCode.code if grouping.every_type and column == "incident_type" else (
            getattr(Incident, source))  # fmt: skip
        expression = func.coalesce(value, NOT_GIVEN)
        dimensions.append(expression)
        key.append(expression)
    statement = select(
        literal(grouping.id),
        Incident.verification,
        month if MONTH in grouping.dimensions else literal(0),
        version,
        *dimensions,
        func.count(),
        func.sum(Incident.record_key),
    ).where(*counted())
    if grouping.every_type:
        statement = statement.join(
            CaseCode,
            (CaseCode.incident_id == Incident.id) & (CaseCode.question == "incident_types"),
        )
    return statement.group_by(*key)


def _cells_from_grouping(grouping: Grouping, finer: Grouping) -> Select[Any]:
    """The grouping's cells summed up from a grouping of the same kind that has all of its
    dimensions (much faster than counting the incidents again)."""
    table = StatisticsCount
    dimensions = [
        getattr(table, column) if column in grouping.dimensions else literal(ALL_VALUES)
        for column in SOURCES
    ]
    month: Any = table.month if MONTH in grouping.dimensions else literal(0)
    key = [table.verification, table.codebook_version] + [
        getattr(table, column) for column in [MONTH, *SOURCES] if column in grouping.dimensions
    ]
    grouping_id: Any = literal(grouping.id)
    return (
        select(grouping_id, table.verification, month, table.codebook_version, *dimensions,
               func.sum(table.count), func.sum(table.key_sum))
        .where(table.grouping_id == finer.id, table.count != 0)
        .group_by(*key)
    )  # fmt: skip


def _count_columns() -> list[str]:
    return ["grouping_id", "verification", "month", "codebook_version", *SOURCES, "count",
            "key_sum"]  # fmt: skip


def rebuild_statistics_counts() -> int:
    """Count every grouping afresh from the incidents and mark the counts current.

    For operators (``flask statistics rebuild``) and after bulk loads; safe while the service
    runs: on PostgreSQL it waits for every transaction that writes incidents or case codes and
    holds later ones until it commits (reading goes on); on SQLite it holds the one write lock.
    The caller commits.

    Returns:
        How many cells were written.
    """
    _take_turn(stop_writers=True)
    db.session.execute(delete(StatisticsCount))
    every = groupings()
    columns = _count_columns()
    finest = {
        kind: next((g for g in every if g.every_type == kind
                    and g.dimensions == {MONTH, *SOURCES}), None)
        for kind in (False, True)
    }  # fmt: skip
    for grouping in sorted(every, key=lambda g: g is not finest[g.every_type]):
        finer = finest[grouping.every_type]
        source = (
            cells_from_incidents(grouping)
            if finer is None or finer is grouping
            else _cells_from_grouping(grouping, finer)
        )
        db.session.execute(insert(StatisticsCount).from_select(columns, source))
    db.session.execute(
        update(StatisticsState).where(StatisticsState.id == STATE_ID).values(counts_current=True)
    )
    return int(db.session.scalar(select(func.count()).select_from(StatisticsCount)) or 0)


CellKey = tuple[Any, ...]


def _stored_cells() -> dict[CellKey, tuple[int, int]]:
    table = StatisticsCount
    rows = db.session.execute(
        select(*(getattr(table, column) for column in _count_columns())).where(
            (table.count != 0) | (table.key_sum != 0)
        )
    )
    return {tuple(row[:-2]): (int(row[-2]), int(row[-1])) for row in rows}


def _fresh_cells(every: Sequence[Grouping]) -> dict[CellKey, tuple[int, int]]:
    fresh: dict[CellKey, tuple[int, int]] = {}
    for grouping in every:
        for row in db.session.execute(cells_from_incidents(grouping)):
            fresh[tuple(row[:-2])] = (int(row[-2]), int(row[-1] or 0))
    return fresh


def statistics_count_differences(limit: int = 20) -> list[str]:
    """Every stored cell against a fresh count of the incidents, counts and key sums alike.

    Returns:
        Up to ``limit`` descriptions of cells that differ (empty when the counts are right),
        or why they cannot be right (suspended).
    """
    if not counts_are_current():
        return ["the counts are suspended: `flask statistics rebuild` counts them afresh"]
    stored, fresh = _stored_cells(), _fresh_cells(groupings())
    differences = []
    for key in sorted(set(stored) | set(fresh), key=repr):
        if stored.get(key) != fresh.get(key):
            differences.append(
                f"cell {key}: stored (count, key sum) {stored.get(key, (0, 0))},"
                f" counted {fresh.get(key, (0, 0))}"
            )
            if len(differences) == limit:
                break
    return differences
