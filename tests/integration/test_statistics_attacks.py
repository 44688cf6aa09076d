"""Attacks on the published statistics, as someone with a statistics token would run them.

Issue 13 recovered almost every withheld cell of the old suppression, and isolated single
incidents by town and month, with four patterns: padding a small category with a large one,
differencing shifted ranges, reading the withheld cells' labels against the table's margins, and
setting the public page against the API. Here the same patterns run against the cell-key method
on demo data, with an attacker who knows the perturbation table (it is published in the code)
and reasons soundly: every published value ``p`` allows exactly the true counts whose row of the
table can publish ``p``; a difference of two published values allows the differences of those
counts; a table's margins allow only cells whose allowed values can add up to an allowed total.

Everything the attacker reads comes from ``build_table``, the one function behind the public
page, the research area, the downloads and the API (``test_statistics_one_source.py`` shows
that the paths agree). The tests check that the attacker is sound (the true count is always
among its candidates, so a test cannot pass because the attack is broken) and that no targeted
cell — a small one (true count 1..4), or a town and month with a single incident — is pinned
to one value.
"""

from __future__ import annotations

import random
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pytest
from flask import Flask

import app.models.incident as incident_module
from app import demo
from app.codebook import current_codebook
from app.extensions import db
from app.research import statistics
from app.research.disclosure import TOTAL, statistics_perturbation
from app.research.perturbation import MAX_PCV, PerturbationTable
from app.research.statistics import build_table, count_cells, parse_query
from tests.factories import TODAY

INCIDENTS = 3000  # about the smallest demo: 3,000 incidents over three years
SEEDS = (1, 2)  # demo data and record keys; each seed is a different population
YEARS = ("2024", "2025", "2026")

# A set of possible true counts, as a bit mask: bit n set means n is possible.
Candidates = int


def single(candidates: Candidates) -> bool:
    return candidates != 0 and candidates & (candidates - 1) == 0


def members(candidates: Candidates) -> Iterator[int]:
    while candidates:
        lowest = candidates & -candidates
        yield lowest.bit_length() - 1
        candidates ^= lowest


def sumset(left: Candidates, right: Candidates) -> Candidates:
    """{a + b : a in left, b in right}."""
    found = 0
    for value in members(left):
        found |= right << value
    return found


def minus(totals: Candidates, parts: Candidates) -> Candidates:
    """{t - p >= 0 : t in totals, p in parts}: what is left of a total after a part."""
    found = 0
    for value in members(parts):
        found |= totals >> value
    return found


class Attacker:
    """What someone who knows the perturbation table can conclude from published values."""

    def __init__(self, perturbation: PerturbationTable) -> None:
        self.perturbation = perturbation
        parameters = perturbation.parameters
        assert parameters is not None
        # No true count above published + k + D can be published as it.
        self.reach = parameters.k + parameters.max_deviation
        self._allowed: dict[int, Candidates] = {}

    def allowed(self, published: int) -> Candidates:
        """Every true count the table can publish as ``published``."""
        if published not in self._allowed:
            found = 1 if published == 0 else 0
            for true in range(1, published + self.reach + 1):
                if published in self.perturbation.distribution(true):
                    found |= 1 << true
            self._allowed[published] = found
        return self._allowed[published]

    def difference(self, larger: int, smaller: int) -> Candidates:
        """The true counts of what one published cell holds beyond another inside it."""
        return minus(self.allowed(larger), self.allowed(smaller))

    @staticmethod
    def additive(cells: Sequence[Candidates], total: Candidates) -> list[Candidates]:
        """Each cell's candidates that, with some candidates of the others, add up to a
        candidate of the line's total."""
        before = [1]
        for cell in cells[:-1]:
            before.append(sumset(before[-1], cell))
        after = [1]
        for cell in reversed(cells[1:]):
            after.append(sumset(after[-1], cell))
        after.reverse()
        return [cell & minus(total, sumset(before[index], after[index]))
                for index, cell in enumerate(cells)]  # fmt: skip


@dataclass
class Population:
    """Demo incidents of one seed, and the attacker's view of what is published about them.

    ``noisy`` False: published through a table that keeps small values from 1..k-1 as ours
    does but adds no noise to larger counts, which the attacks must break (else they prove
    nothing).
    """

    attacker: Attacker
    noisy: bool
    lands: tuple[str, ...]
    types: tuple[str, ...]
    towns: tuple[str, ...]

    def published(self, row: str, column: str = TOTAL, **parameters: str) -> int:
        table = build_table(parse_query(parameters), today=TODAY)
        return table.value(row, column)

    def table(self, **parameters: str) -> Mapping[tuple[str, str], int]:
        return build_table(parse_query(parameters), today=TODAY).protected.values

    def true(self, **parameters: str) -> Mapping[tuple[str, str], int]:
        return count_cells(parse_query(parameters)).counts


def without_noise(perturbation: PerturbationTable) -> PerturbationTable:
    """Our table for counts below k + D (0 or k and more), no noise above."""
    parameters = perturbation.parameters
    assert parameters is not None
    small = parameters.k + parameters.max_deviation
    rows = [[perturbation.pvalue(count, key) for key in range(perturbation.key_range)]
            if count < small else [0] * perturbation.key_range
            for count in range(1, MAX_PCV + 1)]  # fmt: skip
    return PerturbationTable(rows, parameters)


@pytest.fixture(
    params=[(seed, True) for seed in SEEDS] + [(SEEDS[0], False)],
    ids=lambda param: f"seed{param[0]}" + ("" if param[1] else "-without-noise"),
)
def population(
    request: pytest.FixtureRequest, db_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Population]:
    seed, noisy = request.param
    # Record keys from a seeded generator, so that a failure can be run again.
    keys = random.Random(seed)  # noqa: S311 - test data, seeded on purpose
    monkeypatch.setattr(incident_module, "secrets", types.SimpleNamespace(randbelow=keys.randrange))
    with db_app.test_request_context():
        perturbation = statistics_perturbation()
        if not noisy:
            perturbation = without_noise(perturbation)
            monkeypatch.setattr(statistics, "statistics_perturbation", lambda: perturbation)
        demo.generate_demo_incidents(INCIDENTS, today=TODAY, seed=seed)
        codebook = current_codebook()
        yield Population(
            Attacker(perturbation),
            noisy,
            codebook.question("land").codes,
            codebook.question("incident_types").codes,
            codebook.question("town").codes,
        )
        db.session.rollback()


# The published values are the same on both databases (test_statistics_one_source.py): the
# attacks run on SQLite only.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def check(
    population: Population, found: Mapping[str, Candidates], truth: Mapping[str, int]
) -> None:
    """The attacker is sound (the truth is always a candidate) and, against the cell-key
    method, certain of nothing (two candidates or more); without noise it pins cells down."""
    for target, candidates in found.items():
        assert candidates >> truth[target] & 1, (target, truth[target], list(members(candidates)))
    certain = [f"{target}: {truth[target]}" for target, candidates in found.items()
               if single(candidates)]  # fmt: skip
    if population.noisy:
        assert not certain
    else:
        assert certain


def test_padding_a_small_category_with_large_ones(population: Population) -> None:
    """Pattern 1: `land=L&type=T,X` minus `land=L&type=X`, for every other type X (and the
    other way round: all Länder minus all others), intersected with the cell itself."""
    attacker = population.attacker
    cells = population.table(rows="land", columns="type")
    truth = population.true(rows="land", columns="type")
    targets = {(land, kind): truth.get((land, kind), 0) for land in population.lands
               for kind in population.types if 0 < truth.get((land, kind), 0) < 5}  # fmt: skip
    assert len(targets) > 20  # the data has many small cells to attack
    found = {target: attacker.allowed(cells[target]) for target in targets}
    for kind in population.types:
        for other in population.types:
            if other == kind:
                continue
            padded = population.table(rows="land", type=f"{kind},{other}")
            pad = population.table(rows="land", type=other)
            for land in population.lands:
                if (land, kind) in found:
                    found[(land, kind)] &= attacker.difference(
                        padded[(land, TOTAL)], pad[(land, TOTAL)]
                    )
        for land in population.lands:
            if (land, kind) in found:
                everyone = cells[(TOTAL, kind)]
                others = ",".join(code for code in population.lands if code != land)
                rest = population.published(TOTAL, type=kind, land=others, rows="verification")
                found[(land, kind)] &= attacker.difference(everyone, rest)
    check(
        population, {str(t): c for t, c in found.items()}, {str(t): n for t, n in targets.items()}
    )


def test_shifted_ranges_do_not_isolate_a_month(population: Population) -> None:
    """Pattern 2: `from=a&to=b` minus `from=a+1&to=b` (and minus `to=b-1`), every range of a
    year: for towns' months with a single incident, and Länder's months with one to four."""
    attacker = population.attacker
    targets: list[tuple[str, str, str, int]] = []
    for dimension, largest in (("town", 1), ("land", 4)):
        truth = population.true(rows=dimension, columns="period", period="month")
        small = sorted((key, count) for key, count in truth.items()
                       if 0 < count <= largest and key[0] != TOTAL and key[1] != TOTAL)  # fmt: skip
        assert len(small) > 10
        targets += [(dimension, code, month, count) for (code, month), count in small[:10]]
    found: dict[str, Candidates] = {}
    real: dict[str, int] = {}
    for dimension, code, month, count in targets:
        year, number = month[:4], int(month[5:])
        totals: dict[tuple[int, int], int] = {}
        for first in range(1, 13):
            for last in range(first, 13):
                totals[(first, last)] = population.published(
                    TOTAL, rows="verification", period="month",
                    **{dimension: code, "from": f"{year}-{first:02d}", "to": f"{year}-{last:02d}"},
                )  # fmt: skip
        candidates = attacker.allowed(totals[(number, number)])
        for last in range(number + 1, 13):
            candidates &= attacker.difference(totals[(number, last)], totals[(number + 1, last)])
        for first in range(1, number):
            candidates &= attacker.difference(totals[(first, number)], totals[(first, number - 1)])
        found[f"{code} {month}"], real[f"{code} {month}"] = candidates, count
    check(population, found, real)


def test_all_years_minus_the_others(population: Population) -> None:
    """Pattern 2 on years: a small Land × type cell of one year from the cell over all years
    minus the same cell in the other years, and minus two-year ranges."""
    attacker = population.attacker
    # The three years as one range (the demo data also has a few incidents from before).
    every = population.table(rows="land", columns="type", **{"from": f"{YEARS[0]}-01",
                             "to": f"{YEARS[-1]}-12"})  # fmt: skip
    by_year = {year: population.table(rows="land", columns="type", **{"from": f"{year}-01",
               "to": f"{year}-12"}) for year in YEARS}  # fmt: skip
    truth = {year: population.true(rows="land", columns="type", **{"from": f"{year}-01",
             "to": f"{year}-12"}) for year in YEARS}  # fmt: skip
    two = {(a, b): population.table(rows="land", columns="type", **{"from": f"{a}-01",
           "to": f"{b}-12"}) for a, b in zip(YEARS, YEARS[1:], strict=False)}  # fmt: skip
    found: dict[str, Candidates] = {}
    real: dict[str, int] = {}
    for year in YEARS:
        for key, count in truth[year].items():
            if not 0 < count < 5:
                continue
            others = [by_year[other][key] for other in YEARS if other != year]
            rest = sumset(attacker.allowed(others[0]), attacker.allowed(others[1]))
            candidates = attacker.allowed(by_year[year][key])
            candidates &= minus(attacker.allowed(every[key]), rest)
            for (a, b), values in two.items():
                if year in (a, b):
                    other = b if year == a else a
                    candidates &= attacker.difference(values[key], by_year[other][key])
            found[f"{year} {key}"], real[f"{year} {key}"] = candidates, count
    assert len(found) > 50
    check(population, found, real)


def test_a_single_table_with_its_margins(population: Population) -> None:
    """Pattern 3: no cell is marked, but the margins are published: solve each line of the
    table for its cells (arc consistency over rows and columns until nothing changes)."""
    attacker = population.attacker
    targets: dict[str, Candidates] = {}
    real: dict[str, int] = {}
    for parameters in ({"rows": "land", "columns": "verification",
                        "verification": "verified,not_verifiable"},
                       {"rows": "land", "columns": "type"},
                       {"rows": "town", "columns": "type"},
                       {"rows": "period", "columns": "land", "period": "quarter"}):  # fmt: skip
        values = population.table(**parameters)
        truth = population.true(**parameters)
        rows = sorted({row for row, _ in values if row != TOTAL})
        columns = sorted({column for _, column in values if column != TOTAL})
        found = {key: attacker.allowed(value) for key, value in values.items()}
        changed = True
        while changed:
            changed = False
            lines: list[list[tuple[str, str]]] = [
                [(row, column) for column in columns] for row in [*rows, TOTAL]
            ] + [[(row, column) for row in rows] for column in [*columns, TOTAL]]
            for line in lines:
                total = (line[0][0], TOTAL) if line[0][0] == line[-1][0] else (TOTAL, line[0][1])
                pruned = attacker.additive([found[key] for key in line], found[total])
                for key, candidates in zip(line, pruned, strict=True):
                    if candidates != found[key]:
                        found[key], changed = candidates, True
        for key, candidates in found.items():
            if 0 < truth.get(key, 0) < 5:
                name = f"{parameters} {key}"
                targets[name], real[name] = candidates, truth[key]
    check(population, targets, real)
