"""Small-cell suppression with complementary suppression (app/research/disclosure).

The property tests judge the module by brute force, not by its own graph model: for every
suppressed cell they search the nonnegative integer tables consistent with what is published
for one in which that cell has another value.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.research.disclosure import (
    COMPLEMENTARY,
    PRIMARY,
    TOTAL,
    ProtectedTable,
    protect_table,
)

Key = tuple[str, str]
# A line of the published table: its members add up to its total.
Line = tuple[list[Key], Key]


# --- the brute-force checker -------------------------------------------------------------


class CheckerGaveUp(AssertionError):
    """The search for a second consistent table took too many steps to be conclusive."""


def true_table(
    counts: Mapping[Key, int], rows: Sequence[str], columns: Sequence[str]
) -> dict[Key, int]:
    """Every cell and margin of the table, computed here independently of the module."""
    if not columns:
        cells = {(row, TOTAL): counts.get((row, TOTAL), 0) for row in rows}
        return {**cells, (TOTAL, TOTAL): sum(cells.values())}
    table = {(row, column): counts.get((row, column), 0) for row in rows for column in columns}
    for row in rows:
        table[(row, TOTAL)] = sum(table[(row, column)] for column in columns)
    for column in [*columns, TOTAL]:
        table[(TOTAL, column)] = sum(table[(row, column)] for row in rows)
    return table


def lines_of(rows: Sequence[str], columns: Sequence[str]) -> list[Line]:
    """Every additive line: each row and column (the margins' own included) with its total."""
    if not columns:
        return [([(row, TOTAL) for row in rows], (TOTAL, TOTAL))]
    return [([(row, column) for column in columns], (row, TOTAL)) for row in [*rows, TOTAL]] + [
        ([(row, column) for row in rows], (TOTAL, column)) for column in [*columns, TOTAL]
    ]


class Search:
    """Backtracking over the suppressed cells, with the line sums as bounds.

    Each line becomes an equation ``sum(sign * cell) = constant`` over the suppressed cells
    (published values moved to the constant). A line with one unknown left fixes it; a line
    whose unknowns all have the same sign bounds each of them by what is left.
    """

    def __init__(self, table: ProtectedTable, cap: int, hint: Mapping[Key, int]) -> None:
        self.unknowns = sorted(table.suppressed, key=lambda key: (TOTAL not in key, key))
        self.cap = cap
        self.hint = hint
        self.steps = 0
        self.equations: list[tuple[dict[Key, int], int]] = []
        for members, total in lines_of(table.rows, table.columns):
            signs = {member: 1 for member in members}
            signs[total] = -1
            constant = 0
            unknown: dict[Key, int] = {}
            for key, sign in signs.items():
                value = table.values[key]
                if value is None:
                    unknown[key] = sign
                else:
                    constant -= sign * value
            if unknown:
                self.equations.append((unknown, constant))
            else:
                assert constant == 0, f"the published line ending in {total} does not add up"

    def solvable(self, fixed: Mapping[Key, int], budget: int = 200_000) -> bool:
        """Whether some nonnegative integer assignment extends ``fixed`` and fits every line."""
        self.steps = 0
        self.budget = budget
        return self._extend(dict(fixed))

    def _residuals(self, assigned: Mapping[Key, int]) -> Iterator[tuple[list[Key], int, int]]:
        """Per equation: its unassigned cells, the sign they share (0 if mixed), what is left."""
        for unknown, constant in self.equations:
            left = constant
            open_cells: list[Key] = []
            signs = set()
            for key, sign in unknown.items():
                if key in assigned:
                    left -= sign * assigned[key]
                else:
                    open_cells.append(key)
                    signs.add(sign)
            yield open_cells, (signs.pop() if len(signs) == 1 else 0), left

    def _extend(self, assigned: dict[Key, int]) -> bool:
        self.steps += 1
        if self.steps > self.budget:
            raise CheckerGaveUp(f"more than {self.budget} steps")
        upper = dict.fromkeys(self.unknowns, self.cap)
        for open_cells, sign, left in self._residuals(assigned):
            if not open_cells:
                if left != 0:
                    return False
            elif len(open_cells) == 1:
                value = sign * left
                if not 0 <= value <= self.cap:
                    return False
                return self._extend({**assigned, open_cells[0]: value})
            elif sign:
                if sign * left < 0:
                    return False
                for key in open_cells:
                    upper[key] = min(upper[key], sign * left)
        pending = [key for key in self.unknowns if key not in assigned]
        if not pending:
            return True
        key = pending[0]
        return any(
            self._extend({**assigned, key: value})
            for value in nearest_first(self.hint[key], upper[key])
        )


def nearest_first(centre: int, upper: int) -> list[int]:
    """0..upper ordered by distance from ``centre`` (so a nearby second table is found fast)."""
    return sorted(range(upper + 1), key=lambda value: (abs(value - centre), value))


def deducible_cells(table: ProtectedTable, truth: Mapping[Key, int]) -> list[Key]:
    """The suppressed cells that take one value only in every consistent nonnegative table.

    The search is capped at values up to the true grand total plus k: with a published grand
    total no cell can exceed it, and a suppressed grand total is below k, so a second value, if
    there is one, exists within the cap.
    """
    cap = truth[(TOTAL, TOTAL)] + table.k
    search = Search(table, cap, truth)
    assert search.solvable({}), "the true table itself must be consistent"
    pinned = []
    for key in table.suppressed:
        if not any(
            search.solvable({key: other})
            for other in nearest_first(truth[key], cap)
            if other != truth[key]
        ):
            pinned.append(key)
    return pinned


def check_protected(
    table: ProtectedTable, counts: Mapping[Key, int], rows: Sequence[str], columns: Sequence[str]
) -> dict[Key, int]:
    """Assert the publication rules (a), (b), (c) and the bookkeeping; return the true table."""
    truth = true_table(counts, rows, columns)
    assert set(table.values) == set(truth)
    assert set(table.suppressed) == {key for key, value in table.values.items() if value is None}
    for key, value in table.values.items():
        if value is not None:
            assert value == truth[key]
            assert not 1 <= value < table.k, f"{key} = {value} is published below k"
    for key, reason in table.suppressed.items():
        assert reason == (PRIMARY if 1 <= truth[key] < table.k else COMPLEMENTARY)
    if truth[(TOTAL, TOTAL)] >= table.k:
        assert table.value(TOTAL) == truth[(TOTAL, TOTAL)]
    return truth


# --- hand examples -----------------------------------------------------------------------


def test_series_with_one_small_cell_gets_the_smallest_nonzero_other_cell() -> None:
    years = ["2021", "2022", "2023", "2024"]
    counts = {("2021", TOTAL): 12, ("2022", TOTAL): 3, ("2023", TOTAL): 0, ("2024", TOTAL): 7}
    table = protect_table(counts, years, [])
    assert table.columns == ()
    assert table.suppressed == {("2022", TOTAL): PRIMARY, ("2024", TOTAL): COMPLEMENTARY}
    assert table.value("2021") == 12
    assert table.value("2023") == 0
    assert table.value(TOTAL) == 22
    assert deducible_cells(table, true_table(counts, years, [])) == []


def test_series_whose_total_is_small_suppresses_everything_nonzero() -> None:
    counts = {("2023", TOTAL): 3, ("2024", TOTAL): 1}
    table = protect_table(counts, ["2022", "2023", "2024"], [])
    assert table.values == {
        ("2022", TOTAL): 0,
        ("2023", TOTAL): None,
        ("2024", TOTAL): None,
        (TOTAL, TOTAL): None,
    }
    assert set(table.suppressed.values()) == {PRIMARY}


def test_textbook_two_way_table() -> None:
    # Incident type by federal state; one small cell in the middle of large ones.
    rows, columns = ["Berlin", "Hamburg", "Bremen"], ["insult", "assault", "damage"]
    counts = {
        ("Berlin", "insult"): 20,
        ("Berlin", "assault"): 8,
        ("Berlin", "damage"): 11,
        ("Hamburg", "insult"): 15,
        ("Hamburg", "assault"): 2,
        ("Hamburg", "damage"): 10,
        ("Bremen", "insult"): 7,
        ("Bremen", "assault"): 6,
        ("Bremen", "damage"): 13,
    }
    table = protect_table(counts, rows, columns)
    # The cheapest rectangle through (Hamburg, assault): Bremen/assault 6, Hamburg/insult 15,
    # Bremen/insult 7 sum to 28; via Berlin/damage 29, Bremen/damage 30, Berlin/insult 43.
    assert table.suppressed == {
        ("Hamburg", "assault"): PRIMARY,
        ("Bremen", "assault"): COMPLEMENTARY,
        ("Hamburg", "insult"): COMPLEMENTARY,
        ("Bremen", "insult"): COMPLEMENTARY,
    }
    assert all(table.value(row) is not None for row in [*rows, TOTAL])
    assert table.value(TOTAL, "assault") == 16
    assert table.value(TOTAL) == 92
    truth = check_protected(table, counts, rows, columns)
    assert deducible_cells(table, truth) == []


def test_small_row_total_is_suppressed_and_protected() -> None:
    # Bremen has four reports in all: its row total is a small cell although no cell is zero.
    rows, columns = ["Berlin", "Hamburg", "Bremen"], ["insult", "assault"]
    counts = {
        ("Berlin", "insult"): 20,
        ("Berlin", "assault"): 9,
        ("Hamburg", "insult"): 15,
        ("Hamburg", "assault"): 6,
        ("Bremen", "insult"): 2,
        ("Bremen", "assault"): 2,
    }
    table = protect_table(counts, rows, columns)
    assert table.suppressed[("Bremen", TOTAL)] == PRIMARY
    assert table.suppressed[("Bremen", "insult")] == PRIMARY
    assert table.suppressed[("Bremen", "assault")] == PRIMARY
    assert table.value(TOTAL) == 54
    truth = check_protected(table, counts, rows, columns)
    assert deducible_cells(table, truth) == []


def test_single_row_protects_its_column_total_with_a_column_total_not_the_grand_total() -> None:
    # One row: each column total equals its cell, so the cell's complement needs a partner
    # among the column totals too; the row total (= grand total) stays published.
    table = protect_table(
        {("Berlin", "insult"): 2, ("Berlin", "assault"): 9},
        ["Berlin"],
        [
            "insult",
            "assault",
        ],
    )
    assert table.suppressed == {
        ("Berlin", "insult"): PRIMARY,
        (TOTAL, "insult"): PRIMARY,
        ("Berlin", "assault"): COMPLEMENTARY,
        (TOTAL, "assault"): COMPLEMENTARY,
    }
    assert table.value("Berlin") == table.value(TOTAL) == 11


def test_all_zero_and_empty_tables_publish_every_zero() -> None:
    table = protect_table({}, ["a", "b"], ["x", "y"])
    assert table.suppressed == {}
    assert set(table.values.values()) == {0}
    assert len(table.values) == 9
    assert protect_table({}, [], []).values == {(TOTAL, TOTAL): 0}
    assert protect_table({}, [], ["x"]).values == {(TOTAL, "x"): 0, (TOTAL, TOTAL): 0}


def test_k_of_one_suppresses_nothing() -> None:
    counts = {("a", "x"): 1, ("a", "y"): 2, ("b", "x"): 0, ("b", "y"): 1}
    table = protect_table(counts, ["a", "b"], ["x", "y"], k=1)
    assert table.suppressed == {}
    assert table.value("a", "x") == 1
    assert table.value(TOTAL) == 4


def test_output_is_deterministic_whatever_the_order_of_the_counts() -> None:
    rows, columns = [f"town{i}" for i in range(6)], [f"month{j}" for j in range(5)]
    counts = {
        (row, column): (i * 7 + j * 3) % 9
        for i, row in enumerate(rows)
        for j, column in enumerate(columns)
    }
    first = protect_table(counts, rows, columns)
    assert COMPLEMENTARY in first.suppressed.values()  # the example exercises both rules
    for reordered in (
        dict(reversed(counts.items())),
        dict(sorted(counts.items(), key=lambda item: (item[0][1], item[1]))),
    ):
        again = protect_table(reordered, rows, columns)
        assert list(again.suppressed.items()) == list(first.suppressed.items())
        assert list(again.values.items()) == list(first.values.items())


def test_values_are_in_table_order_and_read_only() -> None:
    table = protect_table({("b", "x"): 9}, ["b", "a"], ["x"])
    assert list(table.values) == [
        ("b", "x"),
        ("b", TOTAL),
        ("a", "x"),
        ("a", TOTAL),
        (TOTAL, "x"),
        (TOTAL, TOTAL),
    ]
    assert isinstance(table.values, MappingProxyType)
    assert isinstance(table.suppressed, MappingProxyType)
    with pytest.raises(KeyError):
        table.value("c")


@pytest.mark.parametrize(
    ("counts", "rows", "columns", "k", "message"),
    [
        ({("a", "x"): -1}, ["a"], ["x"], 5, "negative"),
        ({("b", "x"): 1}, ["a"], ["x"], 5, "unknown cell"),
        ({("a", "z"): 1}, ["a"], ["x"], 5, "unknown cell"),
        ({("a", TOTAL): 1}, ["a"], ["x"], 5, "unknown cell"),
        ({(TOTAL, "x"): 1}, ["a"], ["x"], 5, "unknown cell"),
        ({("a", "x"): 1}, ["a"], [], 5, "unknown cell"),
        ({("a", TOTAL): 1}, ["a"], [], 0, "k must be at least 1"),
        ({}, ["a", "a"], ["x"], 5, "repeat"),
        ({}, ["a"], ["x", "x"], 5, "repeat"),
        ({}, [TOTAL], [], 5, "cannot be a row"),
        ({}, ["a"], [TOTAL], 5, "cannot be a column"),
    ],
)
def test_invalid_input_is_refused(
    counts: dict[Key, int], rows: list[str], columns: list[str], k: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        protect_table(counts, rows, columns, k=k)


def test_a_count_that_is_not_an_integer_is_refused() -> None:
    with pytest.raises(TypeError, match="not an integer"):
        protect_table({("a", TOTAL): 2.0}, ["a"], [])  # type: ignore[dict-item]


# --- the checker catches what it should ---------------------------------------------------


def test_checker_finds_a_lone_blank_in_a_series() -> None:
    years = ["2022", "2023", "2024"]
    counts = {("2022", TOTAL): 9, ("2023", TOTAL): 3, ("2024", TOTAL): 8}
    truth = true_table(counts, years, [])
    blanked = {key: (None if key == ("2023", TOTAL) else value) for key, value in truth.items()}
    unprotected = ProtectedTable(
        rows=tuple(years),
        columns=(),
        k=5,
        values=blanked,
        suppressed={("2023", TOTAL): PRIMARY},
    )
    assert deducible_cells(unprotected, truth) == [("2023", TOTAL)]


def test_checker_finds_a_cell_pinned_only_by_nonnegativity() -> None:
    # A blanked rectangle is a cycle, so over the reals nothing is fixed; but column y adds up
    # to a published 0, so both of its blanks are 0 and then every blank follows.
    rows, columns = ["a", "b"], ["x", "y"]
    counts = {("a", "x"): 3, ("a", "y"): 0, ("b", "x"): 5, ("b", "y"): 0}
    truth = true_table(counts, rows, columns)
    interior = {(row, column) for row in rows for column in columns}
    unprotected = ProtectedTable(
        rows=tuple(rows),
        columns=tuple(columns),
        k=4,
        values={key: (None if key in interior else value) for key, value in truth.items()},
        suppressed=dict.fromkeys(interior, COMPLEMENTARY),
    )
    assert sorted(deducible_cells(unprotected, truth)) == sorted(interior)


# --- properties --------------------------------------------------------------------------

# Mostly small counts (the interesting ones), sometimes a larger one.
COUNTS = st.one_of(st.integers(0, 4), st.integers(0, 12), st.integers(13, 40))


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[Key, int], list[str], list[str], int]:
    """Small random tables: 1-4 rows, 0-4 columns (0 = a series), k from 2, 3, 5."""
    rows = [f"r{i}" for i in range(draw(st.integers(1, 4), label="rows"))]
    columns = [f"c{j}" for j in range(draw(st.integers(0, 4), label="columns"))]
    keys = [(row, column) for row in rows for column in (columns or [TOTAL])]
    counts = {key: draw(COUNTS) for key in keys}
    if draw(st.booleans(), label="leave zeros out"):
        counts = {key: count for key, count in counts.items() if count}
    order = draw(st.permutations(list(counts)), label="key order")
    k = draw(st.sampled_from([2, 3, 5]), label="k")
    return {key: counts[key] for key in order}, rows, columns, k


@settings(max_examples=200, deadline=None)
@given(case=tables())
def test_no_suppressed_cell_can_be_deduced(
    case: tuple[dict[Key, int], list[str], list[str], int],
) -> None:
    counts, rows, columns, k = case
    table = protect_table(counts, rows, columns, k=k)
    truth = check_protected(table, counts, rows, columns)
    assert deducible_cells(table, truth) == []
    assert nonnegative_pinned_cells(table, truth) == []  # the fast check used for big tables


@settings(max_examples=100, deadline=None)
@given(case=tables())
def test_zeros_are_never_suppressed(
    case: tuple[dict[Key, int], list[str], list[str], int],
) -> None:
    counts, rows, columns, k = case
    table = protect_table(counts, rows, columns, k=k)
    assert all(table.values[key] is None for key in table.suppressed)
    truth = true_table(counts, rows, columns)
    assert all(truth[key] >= 1 for key in table.suppressed)


# --- size --------------------------------------------------------------------------------


def nonnegative_pinned_cells(table: ProtectedTable, truth: Mapping[Key, int]) -> list[Key]:
    """The suppressed cells that cannot move in any consistent nonnegative table (fast check).

    For tables too big for the brute force. The table is a circulation: every interior cell
    flows from its row to its column, a column total from the column to the total row, the
    grand total from there to the total column, a row total from there to its row (a series:
    cells from the line to the outside, its total back). A suppressed cell can grow if a
    path leads back from its head to its tail through suppressed cells, each usable forwards,
    or backwards if its count is at least 1; shrinking is the same the other way round.
    """

    def ends(key: Key) -> tuple[str, str]:
        row, column = key
        if not table.columns:
            return ("line", "outside") if row != TOTAL else ("outside", "line")
        if row != TOTAL and column != TOTAL:
            return (f"row {row}", f"column {column}")
        if row == TOTAL and column != TOTAL:
            return (f"column {column}", "total row")
        if row == TOTAL:
            return ("total row", "total column")
        return ("total column", f"row {row}")

    arcs: dict[str, list[tuple[str, Key]]] = {}
    for key in table.suppressed:
        tail, head = ends(key)
        arcs.setdefault(tail, []).append((head, key))
        if truth[key] >= 1:
            arcs.setdefault(head, []).append((tail, key))

    def reaches(start: str, goal: str, avoiding: Key) -> bool:
        seen, frontier = {start}, [start]
        while frontier:
            for node, key in arcs.get(frontier.pop(), []):
                if key == avoiding or node in seen:
                    continue
                if node == goal:
                    return True
                seen.add(node)
                frontier.append(node)
        return False

    pinned = []
    for key in table.suppressed:
        tail, head = ends(key)
        can_grow = reaches(head, tail, key)
        can_shrink = truth[key] >= 1 and reaches(tail, head, key)
        if not (can_grow or can_shrink):
            pinned.append(key)
    return pinned


def test_fast_checker_catches_the_controls_too() -> None:
    rows, columns = ["a", "b"], ["x", "y"]
    counts = {("a", "x"): 3, ("b", "x"): 5}
    truth = true_table(counts, rows, columns)
    interior = {(row, column) for row in rows for column in columns}
    pinned = ProtectedTable(
        rows=tuple(rows),
        columns=tuple(columns),
        k=4,
        values={key: (None if key in interior else value) for key, value in truth.items()},
        suppressed=dict.fromkeys(interior, COMPLEMENTARY),
    )
    assert sorted(nonnegative_pinned_cells(pinned, truth)) == sorted(interior)
    series = {("2022", TOTAL): 9, ("2023", TOTAL): 3}
    series_truth = true_table(series, ["2022", "2023"], [])
    lone = ProtectedTable(
        rows=("2022", "2023"),
        columns=(),
        k=5,
        values={**series_truth, ("2023", TOTAL): None},
        suppressed={("2023", TOTAL): PRIMARY},
    )
    assert nonnegative_pinned_cells(lone, series_truth) == [("2023", TOTAL)]


def test_towns_by_months_and_a_long_series_are_protected() -> None:
    generator = random.Random(2024)  # noqa: S311 - test data, not a secret
    towns = [f"town {i}" for i in range(200)]
    months = [f"{2022 + month // 12}-{month % 12 + 1:02}" for month in range(30)]
    # Mostly a handful of reports per town and month, sometimes a busy one.
    counts = {
        (town, month): generator.choice([0, 0, 0, 1, 2, 3, 4, 5, 6, 8, 12, 30])
        for town in towns
        for month in months
    }
    table = protect_table(counts, towns, months)
    truth = check_protected(table, counts, towns, months)
    assert len(table.suppressed) > 1000
    assert nonnegative_pinned_cells(table, truth) == []

    days = [f"day {i}" for i in range(1000)]
    series = {(day, TOTAL): generator.choice([0, 1, 4, 7, 20]) for day in days}
    line = protect_table(series, days, [])
    line_truth = check_protected(line, series, days, [])
    assert nonnegative_pinned_cells(line, line_truth) == []
