"""The one way a table is made safe to publish: every cell and every total perturbed by cell key.

Every path that shows a number — the public page, the research area, its CSV and JSON files and
the statistics API — gets it from ``protect_table``, so the same incidents are published as the
same number everywhere (``app/research/perturbation.py`` explains the method).

A margin (a row's, a column's or the grand total) is a cell in its own right: its true count and
its key sum are the sums over the interior cells it covers, and it is perturbed on its own, not
added up from published cells. That is what makes a total the same number on every path (the
year total of a table by Land is the year's cell in a table of years alone, because both count
the same incidents with the same record keys), and it is why published tables need not add up.

Nothing is withheld: no published value is 1..k-1, so there is no blank, and no label, whose
position or reason could be worked back from the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from flask import Flask, current_app

from app.research.perturbation import (
    PerturbationParameters,
    PerturbationTable,
    perturbation_table,
)

TOTAL: Final = "_total"

Key = tuple[str, str]


@dataclass(frozen=True)
class Cell:
    """A cell's true count and the sum of its incidents' record keys (under "every coded type"
    an incident's key once per type it is counted under). Never show either: they are for the
    perturbation only, and a key sum of a small cell gives its incidents' keys away."""

    count: int
    key_sum: int


EMPTY: Final = Cell(0, 0)


@dataclass(frozen=True)
class ProtectedTable:
    """A table ready for publication: every cell and margin, each perturbed on its own.

    Attributes:
        rows: the row categories in the caller's order (without TOTAL).
        columns: the column categories in the caller's order; empty for a one-dimensional
            table (a series such as counts per year), whose cells are keyed ``(row, TOTAL)``.
        k: no published value is 1..k-1.
        values: every cell of the table with its margins — ``(row, column)``, ``(row, TOTAL)``,
            ``(TOTAL, column)`` and ``(TOTAL, TOTAL)`` — in table order.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    k: int
    values: Mapping[Key, int]

    def value(self, row: str, column: str = TOTAL) -> int:
        """The published value of a cell (``column`` TOTAL: the row's total).

        Raises:
            KeyError: for a row or column that is not in the table.
        """
        return self.values[(row, column)]


def statistics_perturbation(app: Flask | None = None) -> PerturbationTable:
    """The perturbation table the configuration asks for (``STATISTICS_MIN_CELL``,
    ``STATISTICS_MAX_DEVIATION``, ``STATISTICS_NOISE_VARIANCE``), made once per process."""
    config = (app or current_app).config
    return perturbation_table(
        PerturbationParameters(
            k=int(config["STATISTICS_MIN_CELL"]),
            max_deviation=int(config["STATISTICS_MAX_DEVIATION"]),
            variance=float(config["STATISTICS_NOISE_VARIANCE"]),
        )
    )


def protect_table(
    cells: Mapping[Key, Cell],
    rows: Sequence[str],
    columns: Sequence[str],
    perturbation: PerturbationTable,
) -> ProtectedTable:
    """The table of ``cells`` with its margins, every value perturbed by its own cell key.

    Guarantees:
        - Each published value is ``perturbation.publish_cell(count, key_sum)`` of the incidents it
          counts, and of nothing else: not of the table's shape, the order of ``cells`` or the
          other cells. A true 0 is published as 0.
        - No published value is in 1..k-1 (k: the table's smallest published positive value).

    Args:
        cells: the interior cells keyed ``(row, column)``, or ``(row, TOTAL)`` when
            ``columns`` is empty; a missing key is an empty cell. Margins are summed here from
            the interior cells, never taken from the caller.
        rows: the row categories in display order.
        columns: the column categories in display order; empty for a one-dimensional table.
        perturbation: the table of noise (``statistics_perturbation()``).

    Raises:
        ValueError: for a negative count or key sum, a key whose row or column is not one of
            the given categories, or categories that repeat or are named TOTAL.
        TypeError: for a count or key sum that is not an integer.
    """
    row_names, column_names = tuple(rows), tuple(columns)
    _check_categories(row_names, "row")
    _check_categories(column_names, "column")
    interior_columns = column_names or (TOTAL,)
    for key, cell in cells.items():
        if key[0] not in row_names or key[1] not in interior_columns:
            raise ValueError(f"unknown cell {key!r}: not one of the given rows and columns")
        for name, number in (("count", cell.count), ("key sum", cell.key_sum)):
            if not isinstance(number, int):
                raise TypeError(f"the {name} of {key!r} is not an integer: {number!r}")
            if number < 0:
                raise ValueError(f"the {name} of {key!r} is negative: {number}")
    true: dict[Key, Cell] = {}
    for row in row_names:
        line = [cells.get((row, column), EMPTY) for column in interior_columns]
        if column_names:
            true.update(zip(((row, column) for column in column_names), line, strict=True))
        true[(row, TOTAL)] = _sum(line)
    for column in column_names:
        true[(TOTAL, column)] = _sum([true[(row, column)] for row in row_names])
    true[(TOTAL, TOTAL)] = _sum([true[(row, TOTAL)] for row in row_names])
    order = [(row, column) for row in (*row_names, TOTAL) for column in (*column_names, TOTAL)]
    return ProtectedTable(
        rows=row_names,
        columns=column_names,
        k=perturbation.smallest_published,
        values=MappingProxyType(
            {key: perturbation.publish_cell(true[key].count, true[key].key_sum) for key in order}
        ),
    )


def _sum(cells: Sequence[Cell]) -> Cell:
    return Cell(sum(cell.count for cell in cells), sum(cell.key_sum for cell in cells))


def _check_categories(names: tuple[str, ...], kind: str) -> None:
    if len(set(names)) != len(names):
        raise ValueError(f"the {kind} categories repeat: {list(names)}")
    if TOTAL in names:
        raise ValueError(f"{TOTAL!r} names the margins and cannot be a {kind} category")
