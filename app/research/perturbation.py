"""The cell-key method: every published count is perturbed by a fixed table, the same on every path.

Why not suppression: a table that blanks small cells can be differenced — two large published
totals that differ by a few incidents give the small number away, and no single table can know
which other tables someone will ask for. Here every count, cells and totals alike, gets a small
noise that is a fixed function of *which* incidents it counts, so asking again, or asking for
the same incidents by another path, gives the same published value: the noise cannot be averaged
away, and a difference of two published totals is off by up to twice the maximum deviation.

How (the ONS's ``cell-key-perturbation`` package, ABS TableBuilder and Destatis's census 2022
work the same way; the ONS's table format is used here unchanged):

1. Each incident gets a permanent random **record key** when it is first stored; it is stored
   with the incident and never exported. Ours are 0..2**32-1 (``app/models/incident.py``).
2. A cell's **cell key** comes from the sum of its incidents' record keys. The ONS takes that sum
   modulo 256 (``PerturbationTable.cell_key``, ``publish``). We first hash the sum
   (``unlinked_key_sum``, ``publish_cell``): with the ONS's sum, the key of A ∪ B is the key of A
   plus the key of B, and an attacker who knows the table (it is in this file) can set many
   published pairs "A ∪ B" and "B" against each other to solve for A's key and then A's count.
   ``bench/differencing_attacks.py`` simulates it: with our table an attacker pins a small
   count exactly for 15 % of targets from 20 padded pairs and 37 % from 200 under the additive
   key, and for 0.07 % and 0.7 % with the hashed one, where every distinct set of incidents draws
   its noise independently (``tests/integration/test_statistics_attacks.py`` runs the issue's
   patterns on demo data).
   A SQL ``GROUP BY`` still gives ``count(*)`` and ``sum(record_key)`` per cell, so nothing needs
   the incidents in memory.
3. A **perturbation table** maps (true count, cell key) to a perturbation ``pvalue``; the
   published value is count + pvalue. Counts above 750 use the rows 501..750 again
   (``((count - 1) mod 250) + 501``), as in the ONS package.

Our table (``PerturbationParameters``, ``perturbation_table``) — chosen so that no published
value is 1..k-1 (so nothing is ever withheld, and no label can say why), a true 0 is published
as 0, and every true count n ≥ 1 is published without bias (mean n):

- counts of at least k + D: published within n ± D (maximum deviation D = 3, where ±3 has one
  cell key of 256 each), variance V = 1;
- counts k..k+D-1: published as 0 or as k..n+D, variance V (a true 5 is published as 0 for 8
  of the 256 cell keys, so a published 0 does not prove that nothing happened);
- counts 1..k-1: published as 0 or as k..max(k, n+D); for k = 5 a true 1 is published as 0 for
  205 of 256 cell keys (80 %), a true 2 for 154, a true 3 for 116, a true 4 for 84, otherwise
  as 5 to 7. So a published 0 may stand for 0 to 5 incidents and a published 5 for 1 to 8:
  neither says anything certain.

Each row is the maximum-entropy distribution on its support with that mean (and that variance
where the support allows it), the construction of the R package ``ptable`` (Destatis, Statistik
Austria), whose own first example is ``create_cnt_ptable(D = 2, V = 1)``; the ONS's shipped
table moves by at most 2. We take D = 3 (see the measurements). It is quantised to 256 cell
keys by largest remainder with the mean kept exact where the support allows, and laid out in
ascending order of published value over the cell keys, like ``ptable``'s cumulative intervals
(with hashed cell keys the layout no longer links the noise of related cells). The table is a
deterministic function of (k, D, V); a test pins its checksum. A larger D and V protect a
little more against differencing and cost a little more (see below); the caller may pass them.

Measured on demo data (``bench/perturbation_cost.py``; about 3,000 counted incidents a year over
three years; every cell and margin of year × Land, year × type, Land × type and town × month;
record keys hashed as above):

==================================================  =========  ==========  ==========
measurement                                          D=3, V=1   D=2, V=1    D=3, V=1.5
==================================================  =========  ==========  ==========
mean absolute deviation per cell (zeros included)    1.25       1.21        1.28
… per cell with a true count of 1..4                 2.16       2.08        2.16
… per cell with a true count of 5..9                 0.49       0.50        0.74
… per cell with a true count of 10 or more           0.71       0.71        0.87
yearly totals: relative error, mean (max)            0.18 %     0.33 %      0.34 %
                                                     (0.61 %)   (1.2 %)     (1.2 %)
Land totals (three years): mean (max)                0.23 %     0.23 %      0.28 %
                                                     (1.3 %)    (1.3 %)     (1.3 %)
Land × year totals: mean (max)                       0.96 %     0.99 %      1.24 %
published total − sum of its published cells, mean   11.6       11.4        11.5
==================================================  =========  ==========  ==========

The yearly maximum is the demo's partial first year (163 incidents); a whole year's total of
about 3,000 moves by at most D. D = 3 costs about what D = 2 costs (its ±3 has 1 cell key in
256) and makes a differencing attacker's extremes rarer; V = 1.5 costs more for no gain there.

Tables therefore need not add up: a total is a cell in its own right, perturbed on its own, not
the sum of its published cells.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import math
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, TextIO

# The ONS format: rows for true counts 1..750; larger counts reuse rows 501..750.
MAX_PCV: Final = 750
CYCLE: Final = 250
KEY_RANGE: Final = 256  # record and cell keys are 0..255
# ONS's create_perturbed_table turns published values below this into NA.
ONS_THRESHOLD: Final = 10
CSV_HEADER: Final = ("pcv", "ckey", "pvalue")


def new_record_key(key_range: int = KEY_RANGE) -> int:
    """A random record key for a newly counted incident: uniform in 0..key_range-1.

    From ``secrets``: the keys decide the noise, so they must not be guessable.
    """
    return secrets.randbelow(key_range)


def unlinked_key_sum(key_sum: int) -> int:
    """The key sum a cell is published with: SHA-256 of the sum of its record keys (64 bits).

    Unlike the sum itself, it says nothing about the key sums of the cell's parts or of any cell
    that contains it, so the noise of A, of B and of A ∪ B are unrelated; the same incidents
    still always give the same value.

    Raises:
        TypeError: for a sum that is not an integer (PostgreSQL sums a bigint to a Decimal).
        ValueError: for a negative sum.
    """
    if not isinstance(key_sum, int):
        raise TypeError(f"a sum of record keys is an integer, not {type(key_sum).__name__}")
    if key_sum < 0:
        raise ValueError(f"a sum of record keys is never negative: {key_sum}")
    digest = hashlib.sha256(key_sum.to_bytes((key_sum.bit_length() + 8) // 8, "big")).digest()
    return int.from_bytes(digest[:8], "big")


def pcv(count: int) -> int:
    """The row of the table that a true ``count`` ≥ 1 uses.

    Raises:
        TypeError: for a count that is not an integer (a SQL sum may come back as a Decimal).
        ValueError: for a count below 1 (a true 0 has no row: it is published as 0).
    """
    if not isinstance(count, int):
        raise TypeError(f"a count is an integer, not {type(count).__name__}")
    if count < 1:
        raise ValueError(f"only counts of at least 1 have a row, not {count}")
    return count if count <= MAX_PCV else (count - 1) % CYCLE + MAX_PCV - CYCLE + 1


@dataclass(frozen=True)
class PerturbationParameters:
    """What our perturbation table is made from (see the module docstring).

    Attributes:
        k: the smallest positive count that may be published; no published value is 1..k-1
            (config ``STATISTICS_MIN_CELL``).
        max_deviation: D, the largest deviation of a published count of at least k + D.
        variance: V, the variance of the noise of counts of at least k (where the support
            allows; for counts of at least k + D always). Between 0 and D² exclusive.
        key_range: the number of cell keys (record keys are 0..key_range-1).
    """

    k: int = 5
    max_deviation: int = 3
    variance: float = 1.0
    key_range: int = KEY_RANGE

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, not {self.k}")
        if self.max_deviation < 1:
            raise ValueError(f"the maximum deviation must be at least 1, not {self.max_deviation}")
        if not 0 < self.variance < self.max_deviation**2:
            raise ValueError(
                f"the variance must lie between 0 and D² = {self.max_deviation**2} (exclusive),"
                f" not {self.variance}"
            )
        if self.key_range < 2:
            raise ValueError(f"at least two cell keys are needed, not {self.key_range}")


DEFAULT_PARAMETERS: Final = PerturbationParameters()


class PerturbationTable:
    """A perturbation table in the ONS format: a pvalue for each row 1..750 and cell key.

    Guarantees (checked when the table is made, whatever its source): every published value is
    a nonnegative integer, and none is in 1..``smallest_published``-1 — for our generated
    tables ``smallest_published`` is at least k.
    """

    def __init__(
        self,
        rows: Sequence[Sequence[int]],
        parameters: PerturbationParameters | None = None,
    ) -> None:
        """Args:
            rows: the pvalues of rows 1..750, each with one pvalue per cell key 0..K-1.
            parameters: what the table was generated from, None for a table read from a file.

        Raises:
            ValueError: for a table of the wrong shape, or one that can publish a negative value.
        """
        if len(rows) != MAX_PCV:
            raise ValueError(f"a perturbation table has {MAX_PCV} rows, not {len(rows)}")
        key_range = len(rows[0])
        if key_range < 1 or any(len(row) != key_range for row in rows):
            raise ValueError("every row of a perturbation table needs the same number of keys")
        self._rows = tuple(tuple(row) for row in rows)
        self.key_range = key_range
        self.parameters = parameters
        positive: set[int] = set()
        for count, row in enumerate(self._rows, start=1):
            # The smallest true count that uses this row: the row itself, or the first count
            # after 750 that cycles back to it; larger counts only publish larger values.
            counts = (count, count + CYCLE) if count > MAX_PCV - CYCLE else (count,)
            for pvalue in set(row):
                for true in counts:
                    if true + pvalue < 0:
                        raise ValueError(
                            f"the table publishes {true + pvalue} for a true count of {true}"
                        )
                    if true + pvalue > 0:
                        positive.add(true + pvalue)
        self.smallest_published = min(positive, default=1)

    # --- made from parameters or read from a file ----------------------------------------

    @classmethod
    def generate(cls, parameters: PerturbationParameters = DEFAULT_PARAMETERS) -> PerturbationTable:
        """Our table for ``parameters`` (see the module docstring); the same on every run.

        Raises:
            ArithmeticError: if the maximum-entropy iteration does not converge (not for any
                parameters that ``PerturbationParameters`` accepts and the tests try).
        """
        k, deviation = parameters.k, parameters.max_deviation
        rows: list[tuple[int, ...]] = []
        # Every count from k + D on has the same noise, symmetric in ±D: solve it once.
        steady: tuple[int, ...] | None = None
        for count in range(1, MAX_PCV + 1):
            if count >= k + deviation and steady is not None:
                rows.append(steady)
                continue
            row = _row(count, parameters)
            if count >= k + deviation:
                steady = row
            rows.append(row)
        table = cls(rows, parameters)
        if table.smallest_published < k:  # pragma: no cover - the supports exclude 1..k-1
            raise AssertionError(f"the generated table publishes {table.smallest_published}")
        return table

    @classmethod
    def from_csv(cls, source: str | Path | TextIO) -> PerturbationTable:
        """A table in the ONS CSV format (columns pcv, ckey, pvalue; any order, quoted or not).

        Every row 1..750 needs every cell key 0..K-1 exactly once: the ONS package would read a
        missing entry as a pvalue of 0, which here is refused rather than guessed.

        Raises:
            ValueError: for a missing column or entry, a repeated one, or a non-integer value.
        """
        if isinstance(source, str | Path):
            with Path(source).open(newline="", encoding="utf-8") as file:
                return cls.from_csv(file)
        reader = csv.reader(source)
        header = [name.strip() for name in next(reader, [])]
        if not set(CSV_HEADER) <= set(header):
            raise ValueError(f"a perturbation table needs the columns {', '.join(CSV_HEADER)}")
        columns = [header.index(name) for name in CSV_HEADER]
        entries: dict[tuple[int, int], int] = {}
        for line in reader:
            try:
                count, ckey, pvalue = (int(line[column]) for column in columns)
            except (IndexError, ValueError) as error:
                raise ValueError(f"line {reader.line_num} is not three integers") from error
            if (count, ckey) in entries:
                raise ValueError(f"pcv {count}, ckey {ckey} appears twice")
            entries[(count, ckey)] = pvalue
        key_range = 1 + max((ckey for _, ckey in entries), default=-1)
        missing = [(count, ckey) for count in range(1, MAX_PCV + 1) for ckey in range(key_range)
                   if (count, ckey) not in entries]  # fmt: skip
        if missing or len(entries) != MAX_PCV * key_range:
            raise ValueError(
                f"the table needs pcv 1..{MAX_PCV} × ckey 0..{key_range - 1} exactly"
                + (f"; missing pcv {missing[0][0]}, ckey {missing[0][1]}" if missing else "")
            )
        return cls(
            [
                [entries[(count, ckey)] for ckey in range(key_range)]
                for count in range(1, MAX_PCV + 1)
            ]  # fmt: skip
        )

    def to_csv(self) -> str:
        """The table in the ONS CSV format (the header quoted as in the ONS's own file)."""
        lines = ['"pcv","ckey","pvalue"']
        lines += [f"{count},{ckey},{pvalue}" for count, row in enumerate(self._rows, start=1)
                  for ckey, pvalue in enumerate(row)]  # fmt: skip
        return "\n".join(lines) + "\n"

    def checksum(self) -> str:
        """SHA-256 of ``to_csv()``: two tables publish alike exactly when their sums agree."""
        return hashlib.sha256(self.to_csv().encode()).hexdigest()

    # --- publishing ------------------------------------------------------------------------

    def cell_key(self, key_sum: int) -> int:
        """The cell key of a cell whose incidents' record keys add up to ``key_sum``.

        Raises:
            TypeError: for a sum that is not an integer (PostgreSQL sums a bigint column to a
                Decimal: sum an integer column, or cast).
            ValueError: for a negative sum (record keys are never negative).
        """
        if not isinstance(key_sum, int):
            raise TypeError(f"a sum of record keys is an integer, not {type(key_sum).__name__}")
        if key_sum < 0:
            raise ValueError(f"a sum of record keys is never negative: {key_sum}")
        return key_sum % self.key_range

    def pvalue(self, count: int, key_sum: int) -> int:
        """The perturbation of ``count`` ≥ 1 incidents whose record keys add up to ``key_sum``."""
        return self._rows[pcv(count) - 1][self.cell_key(key_sum)]

    def publish(self, count: int, key_sum: int) -> int:
        """The published value of a cell: ``count`` incidents whose record keys sum to ``key_sum``.

        Depends on nothing but ``count`` and ``key_sum`` modulo the key range. A true 0 is
        published as 0 (its ``key_sum`` is not read: SQL sums an empty cell to NULL); no
        published value is in 1..``smallest_published``-1 or negative, so nothing is ever
        withheld.

        Raises:
            TypeError: for a count or key sum that is not an integer.
            ValueError: for a negative count or key sum.
        """
        if count == 0 and isinstance(count, int):
            return 0
        return count + self.pvalue(count, key_sum)

    def publish_cell(self, count: int, key_sum: int) -> int:
        """Our published value of a cell: ``publish`` with the ``unlinked_key_sum`` of the
        cell's record keys (see the module docstring). What every table shows.

        Raises:
            TypeError: for a count or key sum that is not an integer.
            ValueError: for a negative count or key sum.
        """
        if count == 0 and isinstance(count, int):
            return 0
        return self.publish(count, unlinked_key_sum(key_sum))

    def publish_ons(self, count: int, key_sum: int, threshold: int = ONS_THRESHOLD) -> int | None:
        """As the ONS's ``create_perturbed_table`` publishes a cell: None (NA) below ``threshold``.

        Only for checking that our arithmetic is the ONS's: zeros become NA too there.
        """
        published = self.publish(count, key_sum)
        return None if published < threshold else published

    def distribution(self, count: int) -> Mapping[int, int]:
        """For a true ``count`` ≥ 1: how many cell keys publish each value."""
        found: dict[int, int] = {}
        for pvalue in self._rows[pcv(count) - 1]:
            found[count + pvalue] = found.get(count + pvalue, 0) + 1
        return MappingProxyType(dict(sorted(found.items())))


def perturbation_table(
    parameters: PerturbationParameters = DEFAULT_PARAMETERS,
) -> PerturbationTable:
    """Our table for ``parameters``, generated once per process and set of parameters."""
    return _generated(parameters)


@functools.lru_cache(maxsize=8)
def _generated(parameters: PerturbationParameters) -> PerturbationTable:
    return PerturbationTable.generate(parameters)


# --- generating a row ---------------------------------------------------------------------


def support(count: int, parameters: PerturbationParameters) -> tuple[int, ...]:
    """The values a true ``count`` ≥ 1 may be published as.

    ``count`` ± D once that stays at k or above; below, 0 and k up to count + D (at least k),
    so that every count can still be published without bias and nothing lands in 1..k-1.
    """
    k, deviation = parameters.k, parameters.max_deviation
    if count - deviation >= k:
        return tuple(range(count - deviation, count + deviation + 1))
    return (0, *range(k, max(k, count + deviation) + 1))


def row_probabilities(count: int, parameters: PerturbationParameters) -> tuple[float, ...]:
    """The maximum-entropy distribution of a true ``count`` over its ``support``.

    Its mean is ``count``; its variance is V where the support allows (strictly between the
    smallest and the largest variance any distribution with that mean on the support has),
    otherwise whatever maximises the entropy with the mean alone.
    """
    deviations = [value - count for value in support(count, parameters)]
    below = [v for v in deviations if v <= 0]
    above = [v for v in deviations if v >= 0]
    least = -max(below) * min(above)  # two points next to the mean (0 if the mean is one)
    most = -min(deviations) * max(deviations)  # the two extremes
    target = parameters.variance if least < parameters.variance < most else None
    return max_entropy(deviations, target)


def max_entropy(deviations: Sequence[int], variance: float | None) -> tuple[float, ...]:
    """p ∝ exp(a·v + b·v²) with Σp·v = 0 and, if ``variance`` is given, Σp·v² = variance.

    Newton's method on the convex dual log Σ exp(a·v + b·v²) − b·variance, whose gradient is
    (E v, E v² − variance) and whose Hessian is the covariance of (v, v²), with a backtracking
    line search. Without ``variance`` only ``a`` is solved for (b = 0).

    Raises:
        ArithmeticError: when the iteration finds no solution — as when the mean 0 is not
            strictly inside the deviations, or no distribution with that mean on them has the
            variance asked for (``row_probabilities`` only asks for one where some does).
    """
    features = [(float(v), float(v * v)) for v in deviations]
    size = 2 if variance is not None else 1
    goal = (0.0, variance or 0.0)
    weights = [0.0, 0.0]

    def dual(at: Sequence[float]) -> tuple[float, list[float]]:
        exponents = [sum(at[i] * f[i] for i in range(size)) for f in features]
        top = max(exponents)
        scaled = [math.exp(e - top) for e in exponents]
        total = sum(scaled)
        value = top + math.log(total) - sum(at[i] * goal[i] for i in range(size))
        return value, [s / total for s in scaled]

    value, probabilities = dual(weights)
    for _ in range(200):
        means = [sum(p * f[i] for p, f in zip(probabilities, features, strict=True))
                 for i in range(size)]  # fmt: skip
        gradient = [means[i] - goal[i] for i in range(size)]
        if max(abs(g) for g in gradient) < 1e-10:
            return tuple(probabilities)
        hessian = [[sum(p * (f[i] - means[i]) * (f[j] - means[j])
                        for p, f in zip(probabilities, features, strict=True))
                    for j in range(size)] for i in range(size)]  # fmt: skip
        step = _solve(hessian, [-g for g in gradient])
        slope = sum(g * s for g, s in zip(gradient, step, strict=True))
        scale = 1.0
        while True:
            trial = [weights[i] + scale * step[i] if i < size else 0.0 for i in range(2)]
            trial_value, trial_probabilities = dual(trial)
            # Armijo's sufficient decrease, allowing for rounding once the decrease is tiny.
            allowance = 1e-4 * scale * slope + 8 * sys.float_info.epsilon * abs(value)
            if trial_value <= value + allowance or scale < 1e-12:
                break
            scale /= 2
        weights, value, probabilities = trial, trial_value, trial_probabilities
    raise ArithmeticError(f"no maximum-entropy distribution found for {list(deviations)}")


def _solve(matrix: Sequence[Sequence[float]], vector: Sequence[float]) -> list[float]:
    """Solve a 1×1 or 2×2 linear system (Cramer's rule).

    Raises:
        ArithmeticError: for a singular system (the distribution has collapsed onto too few
            points to move the multipliers any further).
    """
    if len(vector) == 1:
        if not matrix[0][0]:
            raise ArithmeticError("singular system")
        return [vector[0] / matrix[0][0]]
    (a, b), (c, d) = matrix
    determinant = a * d - b * c
    if not determinant:
        raise ArithmeticError("singular system")
    return [
        (vector[0] * d - b * vector[1]) / determinant,
        (a * vector[1] - c * vector[0]) / determinant,
    ]


def _row(count: int, parameters: PerturbationParameters) -> tuple[int, ...]:
    """The pvalues of a true ``count`` over the cell keys, in ascending order of published value."""
    values = support(count, parameters)
    keys = quantise(values, row_probabilities(count, parameters), count, parameters.key_range)
    return tuple(value - count for value, times in zip(values, keys, strict=True)
                 for _ in range(times))  # fmt: skip


def quantise(
    values: Sequence[int], probabilities: Sequence[float], mean: int, keys: int
) -> tuple[int, ...]:
    """How many of ``keys`` cell keys each value gets: largest remainder, then the mean repaired.

    Largest remainder gives each value the floor of its share and hands the keys left over to
    the largest remainders (ties: the value nearer the mean, then the smaller). That can move
    the mean by a few 1/keys; keys are then moved one at a time between values, each move the
    one that brings the sum of published values nearest to ``mean`` × ``keys`` and, among
    those, disturbs the shares least, until no move brings it nearer.
    """
    targets = [p * keys for p in probabilities]
    counts = [math.floor(t) for t in targets]
    order = sorted(
        range(len(values)),
        key=lambda j: (counts[j] - targets[j], abs(values[j] - mean), values[j]),
    )
    for j in order[: keys - sum(counts)]:
        counts[j] += 1
    error = sum(c * v for c, v in zip(counts, values, strict=True)) - mean * keys
    while error:
        best: tuple[int, float, int, int] | None = None
        for a in range(len(values)):
            if counts[a] == 0:
                continue
            for b in range(len(values)):
                after = abs(error + values[b] - values[a])
                if a == b or after >= abs(error):
                    continue
                disturbance = 2 * (counts[b] - targets[b]) - 2 * (counts[a] - targets[a]) + 2
                move = (after, disturbance, a, b)
                if best is None or move < best:
                    best = move
        if best is None:
            break
        _, _, a, b = best
        counts[a] -= 1
        counts[b] += 1
        error += values[b] - values[a]
    return tuple(counts)
