"""What the cell-key noise costs on demo data: true against published values of typical tables.

Demo incidents (``flask demo generate``, app/demo/__init__.py) over three years, counted as the
statistics count them by default (coded, verified, no duplicates), each with a random record
key. For a few typical tables every cell and every margin is published on its own from its
(count, sum of record keys), as ``app/research/perturbation.py`` does. Printed: the mean
absolute deviation per cell (all cells, and by size of the true count), the relative error of
the yearly totals, of the Land totals (whole period and per year), and how far a published
total is from the sum of its published cells (tables need not add up).

The true tables are counted here in plain Python from the incidents; the real path (SQL
aggregates with record-key sums) is wired in elsewhere. Run: ``python -m bench.perturbation_cost``.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

import flask_migrate
from sqlalchemy import select

from app import create_app
from app.demo import generate_demo_incidents
from app.extensions import db
from app.models import Incident
from app.research.perturbation import PerturbationParameters, PerturbationTable
from app.research.statistics import StatisticsQuery, counted_incidents

# The demo spreads incidents over the 3 × 365 + 1 days up to today: three whole years.
TODAY = dt.date(2026, 12, 31)
# Demo incidents generated; about 77 % are counted (verified, coded, no duplicate), so these
# give about 3,000 and 10,000 counted incidents a year.
SIZES = (11_800, 39_000)
# The years the demo's reports cover whole; a few incidents happened the year before.
WHOLE_YEARS = frozenset({"2024", "2025", "2026"})
PARAMETER_SETS = (
    PerturbationParameters(k=5, max_deviation=3, variance=1.0),  # the default
    PerturbationParameters(k=5, max_deviation=2, variance=1.0),
    PerturbationParameters(k=5, max_deviation=3, variance=1.5),
)

Record = dict[str, str]
# A dimension: the name of the incident's code to group by.
TABLES: dict[str, tuple[str, str]] = {
    "year × Land": ("year", "land"),
    "year × type": ("year", "type"),
    "Land × type": ("land", "type"),
    "town × month": ("town", "month"),
}


def counted_records(incidents: int) -> list[Record]:
    """The incidents the statistics would count, each as its codes, after generating them."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"ENV_NAME": "testing", "INSTANCE_PATH": instance,
                          "SECRET_KEY": secrets.token_hex()})  # fmt: skip
        with app.app_context():
            flask_migrate.upgrade()
            generate_demo_incidents(incidents, today=TODAY, seed=1)
            found = db.session.execute(
                select(
                    Incident.date_from,
                    Incident.coded_land,
                    Incident.coded_most_severe_type,
                    Incident.coded_town,
                ).where(*counted_incidents(StatisticsQuery()))
            ).all()
            db.session.remove()
    return [
        {
            "year": f"{day.year:04d}",
            "month": f"{day.year:04d}-{day.month:02d}",
            "land": str(land),
            "type": str(severe),
            "town": "not_stated" if town in (None, "other") else str(town),
        }
        for day, land, severe, town in found
    ]


def by(*dimensions: str) -> Callable[[Record], str]:
    """The name of a record's cell when grouping by ``dimensions`` (none: the grand total)."""
    return lambda record: "|".join(record[name] for name in dimensions)


class Cells:
    """(count, sum of record keys) of every cell of a grouping, zeros included."""

    def __init__(self, records: Iterable[tuple[Record, int]], key: Callable[[Record], str]) -> None:
        self.cells: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for record, record_key in records:
            cell = self.cells[key(record)]
            cell[0] += 1
            cell[1] += record_key

    def get(self, name: str) -> tuple[int, int]:
        count, key_sum = self.cells.get(name, (0, 0))
        return count, key_sum


def relative_errors(table: PerturbationTable, cells: Cells) -> list[float]:
    errors = []
    for count, key_sum in (cells.get(name) for name in cells.cells):
        errors.append(abs(table.publish_cell(count, key_sum) - count) / count)
    return errors


def measure(
    table: PerturbationTable, records: Sequence[Record], keys: Sequence[int]
) -> dict[str, float]:
    """The measurements for one table of perturbations and one set of incidents."""
    keyed = list(zip(records, keys, strict=True))
    results: dict[str, float] = {}
    deviations: list[int] = []
    by_size: dict[str, list[int]] = defaultdict(list)
    gaps: list[int] = []
    for rows, columns in TABLES.values():
        row_codes = sorted({r[rows] for r in records})
        column_codes = sorted({r[columns] for r in records})
        interior = Cells(keyed, by(rows, columns))
        row_totals, column_totals = Cells(keyed, by(rows)), Cells(keyed, by(columns))
        grand = Cells(keyed, by())
        published_cells: dict[tuple[str, str], int] = {}
        for row in row_codes:
            for column in column_codes:
                count, key_sum = interior.get(f"{row}|{column}")
                published = table.publish_cell(count, key_sum)
                published_cells[(row, column)] = published
                deviations.append(abs(published - count))
                band = "0" if count == 0 else "1-4" if count < 5 else "5-9" if count < 10 else "10+"
                by_size[band].append(abs(published - count))
        margins = [(row_totals, row, [(row, c) for c in column_codes]) for row in row_codes]
        margins += [(column_totals, c, [(r, c) for r in row_codes]) for c in column_codes]
        margins.append((grand, "", list(published_cells)))
        for cells, name, members in margins:
            count, key_sum = cells.get(name)
            deviations.append(abs(table.publish_cell(count, key_sum) - count))
            gaps.append(
                abs(table.publish_cell(count, key_sum) - sum(published_cells[m] for m in members))
            )
    results["cells (margins included; zeros too)"] = len(deviations)
    results["MAD per cell, all"] = statistics.fmean(deviations)
    nonzero = [d for band, values in by_size.items() if band != "0" for d in values]
    results["MAD per cell, nonzero interior"] = statistics.fmean(nonzero)
    for band in ("1-4", "5-9", "10+"):
        results[f"MAD per cell, true {band}"] = statistics.fmean(by_size[band] or [0])
    results["published total − sum of its cells, mean |gap|"] = statistics.fmean(gaps)
    yearly = relative_errors(table, Cells(keyed, by("year")))
    land = relative_errors(table, Cells(keyed, by("land")))
    whole = [(record, key) for record, key in keyed if record["year"] in WHOLE_YEARS]
    land_year = relative_errors(table, Cells(whole, by("land", "year")))
    for name, errors in (("yearly totals", yearly), ("Land totals", land),
                         ("Land × year totals (whole years)", land_year)):  # fmt: skip
        results[f"{name}: mean relative error %"] = 100 * statistics.fmean(errors)
        results[f"{name}: max relative error %"] = 100 * max(errors)
    return results


def main() -> None:
    tables = [PerturbationTable.generate(parameters) for parameters in PARAMETER_SETS]
    for size in SIZES:
        records = counted_records(size)
        per_year: dict[str, int] = defaultdict(int)
        for record in records:
            per_year[record["year"]] += 1
        print(f"{size:,} demo incidents generated, {len(records):,} counted (verified, coded,"
              f" no duplicates); per year: {dict(sorted(per_year.items()))}")  # fmt: skip
        # The same random record keys for every parameter set: only the table differs.
        rng = random.Random(size)
        keys = [rng.randrange(256) for _ in records]
        columns = [measure(table, records, keys) for table in tables]
        header = "  ".join(f"D={p.max_deviation} V={p.variance:<4}" for p in PARAMETER_SETS)
        print(f"{'measurement':<58} {header}")
        for name in columns[0]:
            values = "  ".join(f"{column[name]:>11.3f}" for column in columns)
            print(f"{name:<58} {values}")
        print()


if __name__ == "__main__":
    main()
