"""Every published cell and total is perturbed by its own cell key (app/research/disclosure).

The property tests start from microdata — single incidents, each with a row, a column and a
record key — and judge ``protect_table`` against what the cell-key method promises for each
published number: it is ``publish(count, key sum)`` of exactly the incidents it covers, however
the table is shaped, ordered or laid out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.research.disclosure import (
    TOTAL,
    Cell,
    Key,
    ProtectedTable,
    protect_table,
    statistics_perturbation,
)
from app.research.perturbation import (
    KEY_RANGE,
    PerturbationParameters,
    PerturbationTable,
    perturbation_table,
)
from tests.conftest import AppFactory

DEFAULT = perturbation_table()
# Two other tables: a smaller k, and a wider, noisier perturbation.
PERTURBATIONS = (
    DEFAULT,
    perturbation_table(PerturbationParameters(k=3)),
    perturbation_table(PerturbationParameters(max_deviation=3, variance=1.5)),
)
ROWS = ("a", "b", "c", "d")
COLUMNS = ("x", "y", "z")
PROPERTIES = settings(max_examples=100, deadline=None)


@dataclass(frozen=True)
class Incident:
    row: str
    column: str
    record_key: int


incidents_strategy = st.lists(
    st.builds(
        Incident,
        st.sampled_from(ROWS),
        st.sampled_from(COLUMNS),
        st.integers(min_value=0, max_value=KEY_RANGE - 1),
    ),
    max_size=80,
)
perturbations = st.sampled_from(PERTURBATIONS)


def cells_of(incidents: Iterable[Incident], key: Callable[[Incident], Key]) -> dict[Key, Cell]:
    """The interior cells a GROUP BY would give: count and sum of record keys per ``key``."""
    cells: dict[Key, Cell] = {}
    for incident in incidents:
        found = cells.get(key(incident), Cell(0, 0))
        cells[key(incident)] = Cell(found.count + 1, found.key_sum + incident.record_key)
    return cells


def by_row_and_column(incident: Incident) -> Key:
    return (incident.row, incident.column)


def by_row(incident: Incident) -> Key:
    return (incident.row, TOTAL)


def expected(
    incidents: Sequence[Incident], perturbation: PerturbationTable, row: str, column: str
) -> int:
    """The published value of the incidents in (row, column), TOTAL meaning any: from the
    microdata, not from the table's cells."""
    covered = [incident for incident in incidents
               if row in (TOTAL, incident.row) and column in (TOTAL, incident.column)]  # fmt: skip
    return perturbation.publish_cell(len(covered), sum(incident.record_key for incident in covered))


def table_order(rows: Sequence[str], columns: Sequence[str]) -> list[Key]:
    return [(row, column) for row in (*rows, TOTAL) for column in (*columns, TOTAL)]


# --- each published value is its own incidents' -----------------------------------------


@PROPERTIES
@given(incidents=incidents_strategy, perturbation=perturbations)
def test_every_cell_and_total_is_the_publication_of_exactly_its_incidents(
    incidents: list[Incident], perturbation: PerturbationTable
) -> None:
    table = protect_table(cells_of(incidents, by_row_and_column), ROWS, COLUMNS, perturbation)
    assert (table.rows, table.columns, table.k) == (ROWS, COLUMNS, perturbation.smallest_published)
    assert list(table.values) == table_order(ROWS, COLUMNS)
    for row, column in table.values:
        assert table.value(row, column) == expected(incidents, perturbation, row, column)
    assert table.value(TOTAL) == perturbation.publish_cell(
        len(incidents), sum(incident.record_key for incident in incidents)
    )


@PROPERTIES
@given(incidents=incidents_strategy, perturbation=perturbations)
def test_a_one_dimensional_table_publishes_its_incidents_too(
    incidents: list[Incident], perturbation: PerturbationTable
) -> None:
    table = protect_table(cells_of(incidents, by_row), ROWS, (), perturbation)
    assert table.columns == ()
    assert list(table.values) == table_order(ROWS, ())
    for row in (*ROWS, TOTAL):
        assert table.value(row) == expected(incidents, perturbation, row, TOTAL)


@settings(max_examples=60, deadline=None)
@given(
    cells=st.dictionaries(
        st.tuples(st.sampled_from(ROWS), st.sampled_from(COLUMNS)),
        st.integers(min_value=0, max_value=2_000).flatmap(
            lambda count: st.builds(Cell, st.just(count), st.integers(0, (KEY_RANGE - 1) * count))
        ),
    ),
    perturbation=perturbations,
)
def test_margins_are_published_from_the_summed_counts_and_key_sums_not_from_the_cells(
    cells: dict[Key, Cell], perturbation: PerturbationTable
) -> None:
    # Counts past 750 (rows reused) and key sums past 255 (cell keys wrap) included.
    table = protect_table(cells, ROWS, COLUMNS, perturbation)

    def published_sum(selected: list[Cell]) -> int:
        return perturbation.publish_cell(
            sum(cell.count for cell in selected), sum(cell.key_sum for cell in selected)
        )

    for row, column in table.values:
        covered = [cell for (r, c), cell in cells.items()
                   if row in (TOTAL, r) and column in (TOTAL, c)]  # fmt: skip
        assert table.value(row, column) == published_sum(covered)


def test_a_total_is_perturbed_on_its_own_and_need_not_add_up() -> None:
    # Two true 3s, one published as 0 and one as 5, whose total (a true 6) is published as
    # neither 5 nor 6: found by search, so the test holds for any default table.
    found = next(
        (first, second)
        for first in range(200)
        for second in range(200)
        if DEFAULT.publish_cell(3, first) == 0
        and DEFAULT.publish_cell(3, second) == 5
        and DEFAULT.publish_cell(6, first + second) not in (5, 6)
    )
    table = protect_table(
        {("a", TOTAL): Cell(3, found[0]), ("b", TOTAL): Cell(3, found[1])}, ("a", "b"), (), DEFAULT
    )
    assert table.value("a") == 0
    assert table.value("b") == 5
    assert table.value(TOTAL) == DEFAULT.publish_cell(6, sum(found))
    assert table.value(TOTAL) not in (5, 6)  # neither the sum of the parts nor the truth


# --- nothing but the incidents decides a value -------------------------------------------


@PROPERTIES
@given(incidents=incidents_strategy, perturbation=perturbations, data=st.data())
def test_shuffling_the_incidents_or_the_categories_changes_no_value(
    incidents: list[Incident], perturbation: PerturbationTable, data: st.DataObject
) -> None:
    table = protect_table(cells_of(incidents, by_row_and_column), ROWS, COLUMNS, perturbation)
    shuffled = data.draw(st.permutations(incidents), label="incidents")
    cells = cells_of(shuffled, by_row_and_column)
    cells = dict(data.draw(st.permutations(list(cells.items())), label="cells"))
    again = protect_table(cells, ROWS, COLUMNS, perturbation)
    assert list(again.values.items()) == list(table.values.items())
    rows = tuple(data.draw(st.permutations(ROWS), label="rows"))
    columns = tuple(data.draw(st.permutations(COLUMNS), label="columns"))
    reordered = protect_table(cells, rows, columns, perturbation)
    assert (reordered.rows, reordered.columns) == (rows, columns)
    assert list(reordered.values) == table_order(rows, columns)  # in the caller's order
    assert dict(reordered.values) == dict(table.values)


@PROPERTIES
@given(incidents=incidents_strategy, perturbation=perturbations)
def test_the_same_incidents_are_the_same_number_in_every_shape_of_table(
    incidents: list[Incident], perturbation: PerturbationTable
) -> None:
    table = protect_table(cells_of(incidents, by_row_and_column), ROWS, COLUMNS, perturbation)
    # By rows alone, with categories no incident has added: the 2-D table's row totals.
    series = protect_table(cells_of(incidents, by_row), ("e", *ROWS), (), perturbation)
    for row in (*ROWS, TOTAL):
        assert series.value(row) == table.value(row, TOTAL)
    assert series.value("e") == 0
    # By columns alone: the 2-D table's column totals.
    by_column = protect_table(
        cells_of(incidents, lambda incident: (incident.column, TOTAL)), COLUMNS, (), perturbation
    )
    for column in (*COLUMNS, TOTAL):
        assert by_column.value(column) == table.value(TOTAL, column)
    # Transposed.
    transposed = protect_table(
        cells_of(incidents, lambda incident: (incident.column, incident.row)),
        COLUMNS,
        ROWS,
        perturbation,
    )
    for row, column in table.values:
        assert transposed.value(column, row) == table.value(row, column)
    # Rows a and b merged: the columns hold the same incidents, so do their totals.
    merged = protect_table(
        cells_of(incidents, lambda incident: (incident.row.replace("b", "a"), incident.column)),
        ("a", "c", "d"),
        COLUMNS,
        perturbation,
    )
    for column in (*COLUMNS, TOTAL):
        assert merged.value(TOTAL, column) == table.value(TOTAL, column)
    for row in ("c", "d"):
        assert merged.value(row) == table.value(row)


# --- what is never published -------------------------------------------------------------


@PROPERTIES
@given(incidents=incidents_strategy, perturbation=perturbations)
def test_no_value_is_below_k_but_zero_and_nothing_counted_is_zero(
    incidents: list[Incident], perturbation: PerturbationTable
) -> None:
    rows, columns = (*ROWS, "nobody"), (*COLUMNS, "nothing")  # categories no incident has
    table = protect_table(cells_of(incidents, by_row_and_column), rows, columns, perturbation)
    for key, value in table.values.items():
        assert type(value) is int, key
        assert value == 0 or value >= table.k, (key, value)
    assert table.k == perturbation.smallest_published >= 1
    assert all(table.value("nobody", column) == 0 for column in (*columns, TOTAL))
    assert all(table.value(row, "nothing") == 0 for row in (*rows, TOTAL))
    for row in ROWS:
        if not any(incident.row == row for incident in incidents):
            assert all(table.value(row, column) == 0 for column in (*columns, TOTAL))
    for column in COLUMNS:
        if not any(incident.column == column for incident in incidents):
            assert all(table.value(row, column) == 0 for row in (*rows, TOTAL))


@pytest.mark.parametrize("perturbation", PERTURBATIONS)
def test_an_empty_table_publishes_zero_everywhere(perturbation: PerturbationTable) -> None:
    assert set(protect_table({}, ROWS, COLUMNS, perturbation).values.values()) == {0}
    assert set(protect_table({}, ROWS, (), perturbation).values.values()) == {0}
    assert dict(protect_table({}, (), (), perturbation).values) == {(TOTAL, TOTAL): 0}


def test_a_published_table_cannot_be_changed_afterwards() -> None:
    table = protect_table({("a", "x"): Cell(20, 900)}, ROWS, COLUMNS, DEFAULT)
    with pytest.raises(TypeError):
        table.values[("a", "x")] = 20  # type: ignore[index]


def test_a_value_is_looked_up_by_known_categories_only() -> None:
    table = protect_table({("a", "x"): Cell(20, 900)}, ROWS, COLUMNS, DEFAULT)
    assert table.value("a") == table.value("a", TOTAL)
    assert table.value("a") == DEFAULT.publish_cell(20, 900)
    with pytest.raises(KeyError):
        table.value("zz")
    with pytest.raises(KeyError):
        table.value("a", "zz")


# --- what is refused ---------------------------------------------------------------------


def protect(
    cells: dict[Key, Any], rows: Sequence[str] = ROWS, columns: Sequence[str] = COLUMNS
) -> ProtectedTable:
    return protect_table(cells, rows, columns, DEFAULT)


@pytest.mark.parametrize(
    ("cells", "columns"),
    [
        ({("zz", "x"): Cell(1, 1)}, COLUMNS),  # unknown row
        ({("a", "zz"): Cell(1, 1)}, COLUMNS),  # unknown column
        ({("a", TOTAL): Cell(1, 1)}, COLUMNS),  # a margin is summed here, never taken
        ({(TOTAL, "x"): Cell(1, 1)}, COLUMNS),
        ({(TOTAL, TOTAL): Cell(1, 1)}, COLUMNS),
        ({(TOTAL, TOTAL): Cell(1, 1)}, ()),
        ({("a", "x"): Cell(1, 1)}, ()),  # a column in a one-dimensional table
        ({("zz", TOTAL): Cell(0, 0)}, ()),  # even an empty cell
    ],
)
def test_a_cell_outside_the_given_categories_is_refused(
    cells: dict[Key, Cell], columns: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="unknown cell"):
        protect(cells, ROWS, columns)


@pytest.mark.parametrize(
    ("rows", "columns"),
    [
        (("a", "b", "a"), COLUMNS),
        (ROWS, ("x", "y", "x")),
        (ROWS, ("x", "x")),
        (("a", TOTAL), COLUMNS),
        (ROWS, (TOTAL,)),
        ((TOTAL,), ()),
    ],
)
def test_repeated_categories_or_total_as_a_category_are_refused(
    rows: tuple[str, ...], columns: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="repeat|margins"):
        protect({}, rows, columns)


@pytest.mark.parametrize(
    ("cell", "error"),
    [
        (Cell(-1, 0), ValueError),
        (Cell(1, -1), ValueError),
        (Cell(0, -5), ValueError),
        (Cell(1.0, 3), TypeError),  # type: ignore[arg-type]
        (Cell(2, 3.0), TypeError),  # type: ignore[arg-type]
        # PostgreSQL sums a bigint column to a Decimal.
        (Cell(2, Decimal(3)), TypeError),  # type: ignore[arg-type]
        (Cell(Decimal(2), 3), TypeError),  # type: ignore[arg-type]
        (Cell("2", 3), TypeError),  # type: ignore[arg-type]
        (Cell(2, None), TypeError),  # type: ignore[arg-type]
        # Refused even where nothing is counted and the key sum would never be read.
        (Cell(0, Decimal(0)), TypeError),  # type: ignore[arg-type]
    ],
)
def test_a_count_or_key_sum_that_is_negative_or_not_an_integer_is_refused(
    cell: Cell, error: type[Exception]
) -> None:
    # Among ordinary cells, so that it is not the only one checked.
    cells = {("a", "x"): Cell(12, 700), ("b", "y"): cell, ("c", "z"): Cell(3, 10)}
    with pytest.raises(error):
        protect(cells)
    with pytest.raises(error):
        protect({("b", TOTAL): cell}, ROWS, ())


# --- the configured table ----------------------------------------------------------------


def test_the_configured_perturbation_follows_the_settings(make_app: AppFactory) -> None:
    assert statistics_perturbation(make_app()).checksum() == DEFAULT.checksum()
    app = make_app(STATISTICS_MIN_CELL=3, STATISTICS_MAX_DEVIATION=3, STATISTICS_NOISE_VARIANCE=1.5)
    wanted = perturbation_table(PerturbationParameters(k=3, max_deviation=3, variance=1.5))
    with app.app_context():
        configured = statistics_perturbation()
    assert configured.checksum() == wanted.checksum()
    assert configured.smallest_published == 3


@pytest.mark.parametrize(
    "settings_out_of_range",
    [
        {"STATISTICS_MIN_CELL": 0},
        {"STATISTICS_MAX_DEVIATION": 0},
        {"STATISTICS_NOISE_VARIANCE": 9.0},  # not below D² = 9
        {"STATISTICS_NOISE_VARIANCE": 0},
    ],
)
def test_a_perturbation_setting_out_of_range_stops_the_app(
    make_app: AppFactory, settings_out_of_range: dict[str, float]
) -> None:
    with pytest.raises(ValueError, match="must"):
        make_app(**settings_out_of_range)
