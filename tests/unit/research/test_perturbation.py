"""The cell-key method (app/research/perturbation): our table's promises, and the ONS's arithmetic.

The equivalence tests run the ONS's own package (``cell-key-perturbation``, a dev dependency)
on microdata with random record keys, and compare every cell with what our module publishes
from nothing but each cell's (count, sum of record keys) — what a SQL GROUP BY gives.
"""

from __future__ import annotations

import importlib.metadata
import io
import math
import random
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from cell_key_perturbation.create_perturbed_table import create_perturbed_table
from cell_key_perturbation.utils.generate_test_data import generate_test_data
from hypothesis import given, settings
from hypothesis import strategies as st

from app.research.perturbation import (
    CYCLE,
    DEFAULT_PARAMETERS,
    KEY_RANGE,
    MAX_PCV,
    PerturbationParameters,
    PerturbationTable,
    max_entropy,
    new_record_key,
    pcv,
    perturbation_table,
    quantise,
    support,
    unlinked_key_sum,
)

# SHA-256 of the default table (k = 5, D = 3, V = 1) in the ONS CSV format. It changes only if
# the published values change: then the README's method text and the measurements need a look.
GOLDEN_CHECKSUM = "38fa4e66253e491e4971a7e1586e134db66eeb1ddb2838b709ba1f85089d8161"
# The same table as people read it: for each true count, how many of the 256 cell keys publish
# each value.
GOLDEN_ROWS = {
    1: {0: 205, 5: 51},
    2: {0: 154, 5: 102},
    3: {0: 116, 5: 72, 6: 68},
    4: {0: 84, 5: 61, 6: 58, 7: 53},
    5: {0: 8, 5: 210, 6: 36, 7: 2},
    6: {5: 96, 6: 89, 7: 50, 8: 17, 9: 4},
    7: {5: 15, 6: 64, 7: 100, 8: 61, 9: 15, 10: 1},
    8: {5: 1, 6: 14, 7: 62, 8: 102, 9: 62, 10: 14, 11: 1},
    100: {97: 1, 98: 14, 99: 62, 100: 102, 101: 62, 102: 14, 103: 1},
}

TABLE = perturbation_table()
K, D, V = DEFAULT_PARAMETERS.k, DEFAULT_PARAMETERS.max_deviation, DEFAULT_PARAMETERS.variance

counts = st.integers(min_value=0, max_value=10_000_000)
key_sums = st.integers(min_value=0, max_value=255 * 10_000_000)


def moments(distribution: Mapping[int, int]) -> tuple[int, float, float]:
    """Number of keys, mean and variance of a row's published values."""
    keys = sum(distribution.values())
    mean = sum(value * times for value, times in distribution.items()) / keys
    variance = sum((value - mean) ** 2 * times for value, times in distribution.items()) / keys
    return keys, mean, variance


def largest_gap(values: Sequence[int]) -> int:
    return max(b - a for a, b in zip(values, values[1:], strict=False))


# --- the default table --------------------------------------------------------------------


def test_the_default_table_is_the_same_on_every_run() -> None:
    assert TABLE.checksum() == GOLDEN_CHECKSUM
    assert PerturbationTable.generate().checksum() == GOLDEN_CHECKSUM
    for count, row in GOLDEN_ROWS.items():
        assert dict(TABLE.distribution(count)) == row


def test_the_default_parameters() -> None:
    assert (K, D, V, DEFAULT_PARAMETERS.key_range) == (5, 3, 1.0, 256)
    assert TABLE.parameters == DEFAULT_PARAMETERS
    assert TABLE.smallest_published == K
    assert perturbation_table(PerturbationParameters()) is TABLE  # generated once


@given(counts, key_sums, st.integers(min_value=-1000, max_value=1000))
def test_the_published_value_depends_only_on_the_count_and_the_cell_key(
    count: int, key_sum: int, turns: int
) -> None:
    other = key_sum + turns * KEY_RANGE
    if other >= 0:
        assert TABLE.publish(count, other) == TABLE.publish(count, key_sum)
    assert TABLE.cell_key(key_sum) == key_sum % 256


@given(counts, key_sums)
def test_no_published_value_is_small_or_negative(count: int, key_sum: int) -> None:
    published = TABLE.publish(count, key_sum)
    assert published == 0 or published >= K
    if count == 0:
        assert published == 0


@given(st.integers(min_value=K + D, max_value=10_000_000), key_sums)
def test_counts_from_k_plus_d_on_move_by_at_most_d(count: int, key_sum: int) -> None:
    assert abs(TABLE.publish(count, key_sum) - count) <= D


def test_every_key_publishes_a_zero_as_zero() -> None:
    assert {TABLE.publish(0, key) for key in range(3 * KEY_RANGE)} == {0}


def test_exhaustively_nothing_small_and_nothing_far() -> None:
    """Every row and key once (the property tests sample; this checks the whole table)."""
    for count in range(1, MAX_PCV + CYCLE + 2):
        for key in range(KEY_RANGE):
            published = TABLE.publish(count, key)
            assert published == 0 or published >= K
            if count >= K:
                assert published == 0 or abs(published - count) <= D


def test_counts_above_750_reuse_the_rows_501_to_750() -> None:
    assert [pcv(n) for n in (1, 750, 751, 1000, 1001, 1250, 1251)] == [
        1, 750, 501, 750, 501, 750, 501,
    ]  # fmt: skip
    for count in (751, 999, 12_345, 1_000_000):
        for key in range(KEY_RANGE):
            assert TABLE.pvalue(count, key) == TABLE.pvalue(pcv(count), key)


def test_every_row_is_unbiased_and_has_the_variance_asked_for() -> None:
    for count in range(1, 3 * (K + D)):
        keys, mean, variance = moments(TABLE.distribution(count))
        assert keys == KEY_RANGE
        # Quantised to 256 keys, the mean can be off by half a step of the support at most.
        assert abs(mean - count) * KEY_RANGE <= largest_gap(support(count, DEFAULT_PARAMETERS)) / 2
        if count >= K:
            assert variance == pytest.approx(V, abs=0.1)
        else:  # 0 or at least k: the variance is what unbiasedness costs
            assert variance > V


def test_neither_a_published_zero_nor_a_published_k_is_certain() -> None:
    came_from: dict[int, set[int]] = {}
    for count in range(0, 3 * (K + D)):
        published = TABLE.distribution(count) if count else {0: KEY_RANGE}
        for value in published:
            came_from.setdefault(value, set()).add(count)
    assert came_from[0] == {0, 1, 2, 3, 4, 5}
    assert came_from[K] == {1, 2, 3, 4, 5, 6, 7, 8}
    for count in range(1, K):  # each small count may be published as 0 or as k and more
        outcomes = TABLE.distribution(count)
        assert 0 < outcomes[0] < KEY_RANGE
        assert min(value for value in outcomes if value) == K


# --- any parameters -------------------------------------------------------------------------


@st.composite
def parameter_sets(draw: st.DrawFn) -> PerturbationParameters:
    deviation = draw(st.integers(min_value=1, max_value=4))
    share = draw(st.floats(min_value=0.1, max_value=0.9))
    return PerturbationParameters(
        k=draw(st.integers(min_value=1, max_value=10)),
        max_deviation=deviation,
        variance=round(share * deviation**2, 3),
    )


@settings(max_examples=30, deadline=None)
@given(parameter_sets())
def test_tables_for_any_parameters_keep_the_promises(parameters: PerturbationParameters) -> None:
    table = PerturbationTable.generate(parameters)
    k, deviation = parameters.k, parameters.max_deviation
    assert table.smallest_published >= k
    for count in range(1, 2 * (k + deviation) + 2):
        distribution = table.distribution(count)
        keys, mean, variance = moments(distribution)
        assert keys == KEY_RANGE
        assert all(value == 0 or value >= k for value in distribution)
        gap = largest_gap(support(count, parameters))
        assert abs(mean - count) * KEY_RANGE <= gap / 2
        if count >= k + deviation:
            assert all(abs(value - count) <= deviation for value in distribution)
            assert variance == pytest.approx(parameters.variance, rel=0.05, abs=0.02)
    assert PerturbationTable.generate(parameters).checksum() == table.checksum()


@pytest.mark.parametrize(
    "arguments",
    [
        {"k": 0},
        {"max_deviation": 0},
        {"variance": 0.0},
        {"variance": -1.0},
        {"max_deviation": 2, "variance": 4.0},  # D² is the most two points at ±D can give
        {"key_range": 1},
    ],
)
def test_parameters_that_cannot_make_a_table_are_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must|needed"):
        PerturbationParameters(**arguments)


def test_the_maximum_entropy_rows_meet_their_constraints() -> None:
    # Two points and a mean: nothing left to choose.
    assert max_entropy([-1, 4], None) == pytest.approx((0.8, 0.2))
    # Symmetric deviations with a variance: symmetric, and the moments are the ones asked for.
    row = max_entropy([-2, -1, 0, 1, 2], 1.0)
    assert row == pytest.approx(row[::-1])
    assert sum(row) == pytest.approx(1)
    assert sum(p * v for p, v in zip(row, range(-2, 3), strict=True)) == pytest.approx(0, abs=1e-9)
    assert sum(p * v * v for p, v in zip(row, range(-2, 3), strict=True)) == pytest.approx(1)
    # Among the distributions with these moments it has the largest entropy: moving mass along
    # a direction that keeps all three moments (Σd = Σd·v = Σd·v² = 0) only lowers it.
    direction = (1, -4, 6, -4, 1)
    for step in (-1e-3, 1e-3):
        moved = [p + step * d for p, d in zip(row, direction, strict=True)]
        assert entropy(moved) < entropy(row)


@pytest.mark.parametrize(
    ("deviations", "variance"),
    [([1, 2], None), ([-1, 1], 2.0), ([-2, 0, 1], 50.0)],
)
def test_constraints_nothing_can_meet_are_an_arithmetic_error(
    deviations: list[int], variance: float | None
) -> None:
    with pytest.raises(ArithmeticError):
        max_entropy(deviations, variance)


def entropy(probabilities: Sequence[float]) -> float:
    return -sum(p * math.log(p) for p in probabilities if p > 0)


def test_quantising_keeps_the_mean_where_the_support_allows() -> None:
    # Largest remainder alone would give 51 keys to 5 (mean 255/256); 0 and 5 cannot do better.
    assert quantise([0, 5], [0.8, 0.2], 1, 256) == (205, 51)
    # With 5 and 6 both there the mean comes out exact.
    keys = quantise([0, 5, 6], [0.2744, 0.3536, 0.372], 4, 256)
    assert sum(keys) == 256
    assert sum(v * n for v, n in zip([0, 5, 6], keys, strict=True)) == 4 * 256


def test_record_keys_are_uniform_in_the_key_range() -> None:
    drawn = [new_record_key() for _ in range(5000)]
    assert min(drawn) == 0
    assert max(drawn) == 255
    assert len(set(drawn)) == 256


def test_counts_and_key_sums_that_are_not_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TABLE.publish(-1, 0)
    with pytest.raises(ValueError, match="negative"):
        TABLE.publish(3, -5)
    for count, key_sum in ((Decimal(3), 7), (3.0, 7), (3, Decimal(7)), (3, 7.0), (3, None)):
        with pytest.raises(TypeError, match="integer"):
            TABLE.publish(count, key_sum)  # type: ignore[arg-type]
    assert TABLE.publish(0, None) == 0  # type: ignore[arg-type]  # SQL: SUM over no rows
    for count in (0, -3):
        with pytest.raises(ValueError, match="at least 1"):
            TABLE.pvalue(count, 0)
        with pytest.raises(ValueError, match="at least 1"):
            TABLE.distribution(count)


# --- the ONS format -----------------------------------------------------------------------


def test_a_table_survives_the_ons_csv_format() -> None:
    text = TABLE.to_csv()
    assert text.startswith('"pcv","ckey","pvalue"\n1,0,-1\n')
    assert text.count("\n") == 1 + MAX_PCV * KEY_RANGE
    again = PerturbationTable.from_csv(io.StringIO(text))
    assert again.checksum() == GOLDEN_CHECKSUM
    assert again.parameters is None
    # Columns in another order, unquoted, read the same.
    lines = text.splitlines()[1:]
    reordered = "pvalue,pcv,ckey\n" + "\n".join(
        ",".join((line.split(",")[2], *line.split(",")[:2])) for line in lines
    )
    assert PerturbationTable.from_csv(io.StringIO(reordered)).checksum() == GOLDEN_CHECKSUM


def small_table(pvalue: int = 0, key_range: int = 2) -> list[str]:
    return ["pcv,ckey,pvalue"] + [
        f"{count},{key},{pvalue}" for count in range(1, MAX_PCV + 1) for key in range(key_range)
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (small_table()[:-1], "missing pcv 750, ckey 1"),
        ([*small_table(), "3,1,0"], "appears twice"),
        (small_table()[:5] + ["4,x,0"], "not three integers"),
        (small_table()[:5] + ["4,1"], "not three integers"),
        (["pcv,key,pvalue", "1,0,0"], "columns"),
        ([], "columns"),
        (small_table(pvalue=-2), "publishes -1 for a true count of 1"),
        ([line.replace("751,", "9999,") for line in small_table()] + ["0,0,0"], "exactly"),
    ],
)
def test_broken_tables_are_refused(lines: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PerturbationTable.from_csv(io.StringIO("\n".join(lines)))


def test_a_table_that_never_publishes_small_values_knows_it() -> None:
    rows = [[-count, 7 - count] if count < 7 else [0, 1] for count in range(1, MAX_PCV + 1)]
    table = PerturbationTable(rows)
    assert table.smallest_published == 7
    assert [table.publish(3, key) for key in range(4)] == [0, 7, 0, 7]
    rows[1] = [0, 0]  # a true 2 published as 2
    assert PerturbationTable(rows).smallest_published == 2
    with pytest.raises(ValueError, match="rows"):
        PerturbationTable(rows[:-1])
    with pytest.raises(ValueError, match="same number"):
        PerturbationTable([*rows[:-1], [0]])


def test_the_ons_mode_withholds_below_its_threshold_zeros_included() -> None:
    assert TABLE.publish_ons(0, 0) is None
    assert TABLE.publish_ons(0, 0, threshold=0) == 0
    assert TABLE.publish_ons(100, 0) == TABLE.publish(100, 0)
    assert TABLE.publish(6, 0) == 5
    assert TABLE.publish_ons(6, 0, threshold=5) == 5
    assert TABLE.publish_ons(6, 0, threshold=6) is None


# --- equivalence with the ONS's package -------------------------------------------------------


def ons_ptable_file() -> Path:
    """The ptable_10_5_rule.csv that the ONS package ships (installed beside the environment)."""
    distribution = importlib.metadata.distribution("cell-key-perturbation")
    for file in distribution.files or ():
        if file.name == "ptable_10_5_rule.csv":
            return Path(str(distribution.locate_file(file)))
    raise AssertionError("cell-key-perturbation is installed without ptable_10_5_rule.csv")


@pytest.fixture(scope="module")
def microdata() -> pd.DataFrame:
    """The package's own test microdata (record keys 0..255), 6,000 rows: cells of 0 to 3,000."""
    return generate_test_data(size=6000)


def key_sums_by_cell(
    frame: pd.DataFrame, columns: Sequence[str]
) -> dict[tuple[Any, ...], tuple[int, int]]:
    """(count, sum of record keys) per cell, in plain Python: what a GROUP BY gives."""
    cells: dict[tuple[Any, ...], tuple[int, int]] = {}
    for *key, record_key in frame[[*columns, "record_key"]].itertuples(index=False):
        count, key_sum = cells.get(tuple(key), (0, 0))
        cells[tuple(key)] = (count + 1, key_sum + int(record_key))
    return cells


def compare_with_ons(
    frame: pd.DataFrame,
    ptable: pd.DataFrame,
    table: PerturbationTable,
    geog: list[str],
    tab_vars: list[str],
    threshold: int,
) -> int:
    """Run the package and our module on the same cells; returns how many cells agreed."""
    theirs = create_perturbed_table(
        data=frame, ptable=ptable, geog=geog, tab_vars=tab_vars, record_key="record_key",
        threshold=threshold,
    )  # fmt: skip
    ours = key_sums_by_cell(frame, [*geog, *tab_vars])
    seen = set()
    for row in theirs.to_dict("records"):
        key = tuple(row[column] for column in [*geog, *tab_vars])
        count, key_sum = ours.get(key, (0, 0))
        assert row["pre_sdc_count"] == count, key
        if count:
            assert row["ckey"] == table.cell_key(key_sum), key
        published = None if pd.isna(row["count"]) else int(row["count"])
        assert published == table.publish_ons(count, key_sum, threshold), (key, count)
        seen.add(key)
    assert set(ours) <= seen  # every nonempty cell was compared
    return len(seen)


SHAPES: list[tuple[list[str], list[str]]] = [
    ([], ["var2"]),  # two cells of about 3,000: rows 501..750 reused
    (["var1"], ["var5", "var8"]),  # 200 cells, many of them small or empty
    (["var1"], ["var3", "var9", "var10"]),  # 7,840 cells, almost all below 10
    ([], ["var5"]),
]


@pytest.fixture(scope="module")
def ons_table() -> tuple[pd.DataFrame, PerturbationTable]:
    """The ONS's shipped table, read by pandas for the package and by our module for us."""
    path = ons_ptable_file()
    return pd.read_csv(path), PerturbationTable.from_csv(path)


@pytest.mark.parametrize(("geog", "tab_vars"), SHAPES)
def test_the_ons_table_gives_the_ons_values(
    microdata: pd.DataFrame,
    ons_table: tuple[pd.DataFrame, PerturbationTable],
    geog: list[str],
    tab_vars: list[str],
) -> None:
    ptable, table = ons_table
    assert table.smallest_published == 10  # the 10-5 rule: nothing below 10 but 0
    for threshold in (10, 0):
        assert compare_with_ons(microdata, ptable, table, geog, tab_vars, threshold) > 1


@pytest.mark.parametrize(("geog", "tab_vars"), SHAPES)
def test_our_table_fed_to_the_ons_package_gives_our_values(
    microdata: pd.DataFrame, geog: list[str], tab_vars: list[str]
) -> None:
    ptable = pd.read_csv(io.StringIO(TABLE.to_csv()))
    # Threshold 0: the package publishes every cell, so it must agree with publish() itself.
    compare_with_ons(microdata, ptable, TABLE, geog, tab_vars, threshold=0)
    theirs = create_perturbed_table(
        data=microdata, ptable=ptable, geog=geog, tab_vars=tab_vars, record_key="record_key",
        threshold=0,
    )  # fmt: skip
    ours = key_sums_by_cell(microdata, [*geog, *tab_vars])
    for row in theirs.to_dict("records"):
        count, key_sum = ours.get(tuple(row[c] for c in [*geog, *tab_vars]), (0, 0))
        assert int(row["count"]) == TABLE.publish(count, key_sum)
    compare_with_ons(microdata, ptable, TABLE, geog, tab_vars, threshold=K)


def test_our_cells_are_the_ons_cells_for_fresh_record_keys() -> None:
    """Other microdata, keys drawn by ``new_record_key``: the small cells of our table matter."""
    rng = random.Random(13)  # noqa: S311 - test data, not a secret
    frame = pd.DataFrame(
        {
            "record_key": [new_record_key() for _ in range(3000)],
            "land": [rng.choice("ABCDEFGHIJKLMNOP") for _ in range(3000)],
            "month": [rng.randint(1, 36) for _ in range(3000)],
        }
    )
    ptable = pd.read_csv(io.StringIO(TABLE.to_csv()))
    assert compare_with_ons(frame, ptable, TABLE, ["land"], ["month"], threshold=0) == 16 * 36
    small = [n for n, _ in key_sums_by_cell(frame, ["land", "month"]).values() if n < K]
    assert small  # the comparison covered counts of 1..k-1


# --- our cell key: the hash of the key sum ------------------------------------------------------


@given(st.integers(min_value=1, max_value=10_000_000), st.integers(min_value=0, max_value=2**53))
def test_our_published_value_is_the_ons_value_of_the_unlinked_key_sum(
    count: int, key_sum: int
) -> None:
    assert TABLE.publish_cell(count, key_sum) == TABLE.publish(count, unlinked_key_sum(key_sum))
    assert TABLE.publish_cell(0, key_sum) == 0
    assert 0 <= unlinked_key_sum(key_sum) < 2**64


def test_the_keys_of_a_set_and_its_parts_are_unrelated() -> None:
    """With the ONS's additive key, key(A ∪ B) - key(B) is the same for every B (it is A's key);
    hashed, it is spread over all keys like independent draws."""
    rng = random.Random(5)  # noqa: S311 - test data, not a secret
    part = rng.randrange(2**40)
    additive, unlinked = set(), []
    for _ in range(4096):
        other = rng.randrange(2**40)
        additive.add((TABLE.cell_key(part + other) - TABLE.cell_key(other)) % KEY_RANGE)
        whole, rest = unlinked_key_sum(part + other), unlinked_key_sum(other)
        unlinked.append((TABLE.cell_key(whole) - TABLE.cell_key(rest)) % KEY_RANGE)
    assert additive == {part % KEY_RANGE}
    counts = [unlinked.count(key) for key in range(KEY_RANGE)]
    assert min(counts) > 0  # about 16 each
    assert max(counts) < 40


def test_sums_that_are_not_sums_of_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="never negative"):
        unlinked_key_sum(-1)
    with pytest.raises(TypeError, match="integer"):
        unlinked_key_sum(Decimal(3))  # type: ignore[arg-type]
