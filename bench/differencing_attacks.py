"""How often a differencing attacker pins down a small cell's true count with certainty.

The padding attack: the attacker wants the true count t (1..4) of a small cell A. They find m
other sets of incidents B_1..B_m (pads) and read the published values of "A ∪ B_i" and "B_i",
plus A's own published value. They know the perturbation table (it is in
``app/research/perturbation.py``) but not the record keys. Each pair narrows the possible t; we
count the targets for which exactly one t is left after m pairs. Pads are ``mixed`` (half of
them 20..500 incidents, a quarter 5..19, a quarter 0..4, an empty pad included: then "A ∪ B" is
A itself) or ``large`` (20..500 incidents).

Cell-key layouts (``PerturbationTable.generate(k=5, D, V)``, 256 cell keys):

- ``asc``: the ONS's key — the cell key is the sum of the record keys mod 256, so the key of
  A ∪ B is the key of A plus the key of B; the table's row lays its pvalues out ascending over
  the keys (``PerturbationTable.publish``).
- ``perm``: the additive key with each row's keys shuffled by a fixed permutation.
- ``hash``: the key comes from a hash of the key sum (``unlinked_key_sum``, ``publish_cell``:
  our method), so A, B and A ∪ B draw their noise independently unless B is empty. Simulated
  as independent uniform cell keys; the layout of the row then does not matter.

Attackers:

- (a) support intersection: each pair says t ∈ {n_AB − n_B : n_AB could publish the union's
  value, n_B the pad's}; intersect over the pairs and with what could publish A's value. It
  is exact when the keys are independent (``hash``), so only (a) is run there.
- (b) exact for the additive key: it also knows the layout and keeps, per candidate t, the set
  of A's cell keys c_A for which every pair has some pad size and pad key that give both
  published values. Only meaningful for ``asc`` and ``perm``; checked against a brute force.

The cell key of n ≥ 1 uniform record keys is exactly uniform mod 256, so cell keys are drawn
uniform here rather than from record keys.

Measured earlier (the full study: 10,000 targets per row for asc and perm, 30,000 for hash,
t = 1..4 pooled; about 15 minutes on 2 cores). Share of targets whose t is certain after m
pairs:

==========  ================  =======  ======  =======  ======  ======
table       layout, attacker  m = 5    20      50       200     1000
==========  ================  =======  ======  =======  ======  ======
D=2 V=1     asc (b), mixed    6.9 %    22 %    34 %     44 %    49 %
D=2 V=1     asc (b), large    7.6 %    22 %    31 %     35 %    36 %
D=2 V=1     hash (a), mixed   0.3 %    1.5 %   4.4 %    27 %    92 %
D=2 V=1     hash (a), large   0.3 %    1.5 %   5.2 %    33 %    96 %
D=3 V=1     asc (b), mixed    4.6 %    15 %    22 %     37 %    52 %
D=3 V=1     asc (b), large    4.6 %    13 %    18 %     28 %    32 %
D=3 V=1     hash (a), mixed   0.01 %   0.06 %  0.18 %   0.68 %  3.6 %
D=3 V=1     hash (a), large   0        0       0.003 %  0.03 %  0.2 %
==========  ================  =======  ======  =======  ======  ======

So with the hashed key and D = 3, V = 1 (our default) a table-aware attacker pins down under
1 % of small cells with 200 padded pairs, where the additive key gave away 28 to 37 %; with
D = 2 the hash still gave away about a third at 200 pairs and nearly all at 1,000. Also in the
full run: (a) pins down (almost) nothing under ``asc``, and (b) nearly every target under
``perm`` by m = 1000.

Run: ``python -m bench.differencing_attacks`` (about 1½ minutes on 2 busy cores: D = 2 and 3
with V = 1, asc with (b) and hash with (a), m = 5, 20, 200, 25,000 targets per t and pad mix)
or ``--full`` (every table, layout and m above, 2,500 targets; about 15 minutes). ``--trials``
sets the targets per t and pad mix (three times as many for hash). Not part of ``python -m
bench``: it is slow and studies the method rather than the service.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from app.research.perturbation import PerturbationParameters, PerturbationTable

K = 5
KEYS = 256
MAX_COUNT = 540  # largest true count tabulated: a target, a pad and attacker (b)'s extra pads
PAD_MAX = 500
TARGETS = (1, 2, 3, 4)
MIXES = ("mixed", "large")
# (D, V) of the tables studied; the index into this tuple seeds the random numbers.
TABLES: tuple[tuple[int, float], ...] = ((2, 1), (3, 1), (3, 1.5), (4, 1), (4, 1.5))
FULL_PAIRS = (5, 20, 50, 200, 1000)
QUICK_PAIRS = (5, 20, 200)
QUICK_TABLES = ((3, 1), (2, 1))
# The published difference "A ∪ B" − "B" is stored at index difference + OFFSET, in WIDTH slots.
OFFSET, WIDTH = 24, 72
HASH_TRIALS = 3  # times more targets for the cheap hash case, where only attacker (a) runs

Published = npt.NDArray[np.int16]  # [true count, cell key] -> published value


def published_values(table: PerturbationTable, layout: str, seed: int = 12345) -> Published:
    """The published value of every true count 0..MAX_COUNT and cell key, for a layout."""
    published = np.zeros((MAX_COUNT + 1, KEYS), np.int16)
    rng = np.random.default_rng(seed)
    # One fixed permutation per table row (pcv); counts up to MAX_COUNT ≤ 750 are their own row.
    permutations = [rng.permutation(KEYS) for _ in range(750)]
    for count in range(1, MAX_COUNT + 1):
        row = np.array([table.publish(count, key) for key in range(KEYS)], np.int16)
        expected = [v for v, keys in table.distribution(count).items() for _ in range(keys)]
        assert sorted(row.tolist()) == expected
        published[count] = row[permutations[count - 1]] if layout == "perm" else row
    return published


def pack(flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint64]:
    """Booleans over the 256 cell keys (last axis) as four 64-bit words."""
    return np.packbits(flags, axis=-1, bitorder="little").view(np.uint64)


class Attack:
    """Lookup tables of both attackers for one table of published values."""

    def __init__(self, published: Published, exact: bool = True) -> None:
        self.published = published
        values = int(published.max()) + 1
        can_publish = np.zeros((MAX_COUNT + 1, values), bool)  # [n, p]: n may be published as p
        for count in range(MAX_COUNT + 1):
            can_publish[count, np.unique(published[count])] = True
        # The true counts a published value p may stand for.
        self.candidates = [np.nonzero(can_publish[:, p])[0] for p in range(values)]
        # Candidate t are 0..hypotheses-1: everything the values of a true 1..4 may stand for.
        self.hypotheses = hypotheses = (
            max(int(self.candidates[p].max()) for t in TARGETS for p in np.unique(published[t])) + 1
        )
        # Attacker (a): by_pair[p_B, p_AB - p_B + OFFSET] = bitmask over t of
        # {n_AB - n_B : n_AB may be published as p_AB, n_B as p_B}.
        self.by_pair = np.zeros((values, WIDTH), np.int64)
        for pad_value in range(values):
            for union_value in range(
                max(0, pad_value - OFFSET), min(values, pad_value + WIDTH - OFFSET)
            ):
                d = np.subtract.outer(
                    self.candidates[union_value], self.candidates[pad_value]
                ).ravel()
                d = d[(d >= 0) & (d < hypotheses)]
                self.by_pair[pad_value, union_value - pad_value + OFFSET] = (
                    np.bitwise_or.reduce(1 << d) if d.size else 0
                )
        # Attacker (a): bitmask over t of what may publish A's value.
        self.by_target = np.array(
            [
                np.bitwise_or.reduce(1 << self.candidates[p][self.candidates[p] < hypotheses])
                for p in range(values)
            ]
        )
        self.exact = exact
        if not exact:
            return
        # Attacker (b): keys_by_pair[t, p_B, p_AB - p_B + OFFSET] = the c_A (packed) for which
        # some pad size n_B and pad key c give p_B and p_AB. Pad sizes beyond PAD_MAX cover every
        # size that may publish a value seen from a pad of at most PAD_MAX.
        key_sums = (np.arange(KEYS)[:, None] + np.arange(KEYS)[None, :]) % KEYS  # [c_A, c]
        target_keys = np.broadcast_to(np.arange(KEYS)[:, None], (KEYS, KEYS))
        self.keys_by_pair = np.zeros((hypotheses, values, WIDTH, 4), np.uint64)
        for t in range(hypotheses):
            found = np.zeros((values, WIDTH, KEYS), bool)
            for pad_size in range(0, PAD_MAX + 12):
                pad = np.broadcast_to(published[pad_size][None, :], (KEYS, KEYS))
                # An empty pad: its key sum is 0, the union is A.
                union_keys = key_sums if pad_size else key_sums[:, :1].repeat(KEYS, 1)
                union = published[t + pad_size][union_keys]
                difference = union - pad + OFFSET
                assert 0 <= difference.min() <= difference.max() < WIDTH
                found[pad, difference, target_keys] = True
            self.keys_by_pair[t] = pack(found)
        # Attacker (b): the c_A that publish A's value for candidate t.
        target_keys_ok = np.zeros((hypotheses, values, KEYS), bool)
        for t in range(1, hypotheses):
            target_keys_ok[t, published[t], np.arange(KEYS)] = True
        target_keys_ok[0, 0, 0] = True  # t = 0: A is empty, its key sum is 0
        self.target_keys_ok = pack(target_keys_ok)

    def run(
        self,
        t: int,
        mix: str,
        trials: int,
        rng: np.random.Generator,
        pairs: Sequence[int],
        independent_keys: bool = False,
        batch: int = 40,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64] | None]:
        """Targets of true count ``t`` pinned down after each number of pairs, by (a) and (b).

        (b) is None when not run: with ``independent_keys`` (hash), or if built not ``exact``.
        """
        published = self.published
        pinned_a = np.zeros(len(pairs), np.int64)
        pinned_b = np.zeros(len(pairs), np.int64)
        run_b = self.exact and not independent_keys
        starts = [0, *pairs[:-1]]
        for first in range(0, trials, batch):
            b = min(batch, trials - first)
            target_key = rng.integers(0, KEYS, b)
            target_value = published[t, target_key]
            u = rng.random((b, pairs[-1]))
            if mix == "large":
                pad_size = rng.integers(20, PAD_MAX + 1, (b, pairs[-1]))
            else:
                pad_size = np.where(
                    u < 0.5,
                    rng.integers(20, PAD_MAX + 1, u.shape),
                    np.where(u < 0.75, rng.integers(5, 20, u.shape), rng.integers(0, 5, u.shape)),
                )
            pad_key = np.where(pad_size > 0, rng.integers(0, KEYS, u.shape), 0)  # empty: sum 0
            pad = published[pad_size, pad_key]
            if independent_keys:  # unless B is empty, the union's key is unrelated to A's, B's
                union_key = np.where(
                    pad_size > 0, rng.integers(0, KEYS, u.shape), target_key[:, None]
                )
            else:
                union_key = (target_key[:, None] + pad_key) % KEYS
            union = published[t + pad_size, union_key]
            difference = union - pad + OFFSET
            # (a): AND the masks of each block of pairs, then cumulatively over the blocks.
            g = np.bitwise_and.reduceat(self.by_pair[pad, difference], starts, axis=1)
            g = np.bitwise_and.accumulate(g, axis=1) & self.by_target[target_value][:, None]
            pinned_a += ((g != 0) & (g & (g - 1) == 0)).sum(0)  # exactly one t left
            if not run_b:
                continue
            # (b): the same per candidate t over the packed sets of c_A.
            f = np.bitwise_and.reduceat(self.keys_by_pair[:, pad, difference], starts, axis=2)
            f = (
                np.bitwise_and.accumulate(f, axis=2)
                & self.target_keys_ok[:, target_value][:, :, None, :]
            )
            alive = (f != 0).any(-1)  # (hypotheses, b, len(pairs))
            assert alive[t].all()  # the truth always survives
            pinned_b += (alive.sum(0) == 1).sum(0)
        return pinned_a, pinned_b if run_b else None


def study(
    tables: Sequence[tuple[int, float]],
    layouts: Sequence[str],
    pairs: Sequence[int],
    trials: int,
) -> None:
    """Print the share of targets pinned down, t = 1..4 pooled, for every table, layout, mix."""
    print(f"Targets whose true count (1..4) is certain after m padded pairs; {trials} targets per"
          f" t and mix ({HASH_TRIALS * trials} for hash).")  # fmt: skip
    print(f"{'table':<10} {'layout':<6} {'attacker':<8} {'pads':<6} {'targets':>7}  "
          + "  ".join(f"{f'm = {m}':>8}" for m in pairs))  # fmt: skip
    for d, v in tables:
        index = TABLES.index((d, v))
        table = PerturbationTable.generate(PerturbationParameters(k=K, max_deviation=d, variance=v))
        for layout in layouts:
            started = time.perf_counter()
            attack = Attack(published_values(table, layout), exact=layout != "hash")
            n = HASH_TRIALS * trials if layout == "hash" else trials
            for mix in MIXES:
                total_a = np.zeros(len(pairs), np.int64)
                total_b: npt.NDArray[np.int64] | None = np.zeros(len(pairs), np.int64)
                for t in TARGETS:
                    # The seeds of the earlier study (hash shared asc's).
                    seed = 1000 * index + 10 * t + (mix == "large") + 5 * (layout == "perm")
                    a, b = attack.run(
                        t, mix, n, np.random.default_rng(seed), pairs, layout == "hash"
                    )
                    total_a += a
                    total_b = None if b is None or total_b is None else total_b + b
                rows = [("(a)", total_a)] + ([("(b)", total_b)] if total_b is not None else [])
                for attacker, pinned in rows:
                    shares = "  ".join(f"{100 * x / (4 * n):>7.3f}%" for x in pinned)
                    print(f"D={d} V={v:<4} {layout:<6} {attacker:<8} {mix:<6} {4 * n:>7}  {shares}")
            print(f"  ({layout}, D={d} V={v}: {time.perf_counter() - started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--full", action="store_true", help="every table, layout and m")
    parser.add_argument("--trials", type=int, help="targets per true count and pad mix")
    arguments = parser.parse_args()
    if arguments.full:
        study(TABLES, ("asc", "perm", "hash"), FULL_PAIRS, arguments.trials or 2500)
    else:
        study(QUICK_TABLES, ("asc", "hash"), QUICK_PAIRS, arguments.trials or 25_000)


if __name__ == "__main__":
    main()
