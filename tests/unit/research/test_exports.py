"""CSV and JSON exports: every cell is escaped against spreadsheet formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from app.research.disclosure import TOTAL, Cell, protect_table
from app.research.exports import FORMULA_STARTS, neutralise_formula, table_as_csv, table_as_json
from app.research.periods import period_coverage
from app.research.perturbation import perturbation_table
from app.research.statistics import Category, StatisticsQuery, StatisticsTable

PERTURBATION = perturbation_table()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_a_spreadsheet_would_run_is_escaped(start: str) -> None:
    assert neutralise_formula(f'{start}HYPERLINK("x")') == f'\'{start}HYPERLINK("x")'


@given(st.text())
def test_escaped_text_never_starts_a_formula_and_keeps_the_rest(text: str) -> None:
    escaped = neutralise_formula(text)
    assert not escaped.startswith(FORMULA_STARTS)
    assert escaped.removeprefix("'") == text or escaped == text


def hostile_table() -> StatisticsTable:
    rows = ("a", "b")
    cells = {("a", TOTAL): Cell(7, 100), ("b", TOTAL): Cell(9, 300)}
    protected = protect_table(cells, rows, (), PERTURBATION)
    return StatisticsTable(
        query=StatisticsQuery(rows="place_type"),
        rows=(Category("a", '=HYPERLINK("http://x")'), Category("b", "@SUM(A1)")),
        columns=(),
        protected=protected,
        codebook_versions=("2026.2",),
        made_on=dt.date(2026, 11, 26),
    )


def test_labels_in_a_csv_cannot_become_formulas(app: Flask) -> None:
    with app.test_request_context():
        text = table_as_csv(hostile_table())
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["place_type", "place_type_label", "count", "k", "verification", "types",
                        "codebook_versions"]  # fmt: skip
    # One line per cell, the total last, each with its published value and nothing withheld.
    assert [(line[0], line[2]) for line in lines[1:]] == [
        ("a", str(PERTURBATION.publish_cell(7, 100))),
        ("b", str(PERTURBATION.publish_cell(9, 300))),
        (TOTAL, str(PERTURBATION.publish_cell(16, 400))),
    ]
    cells = [cell for line in lines for cell in line]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert '\'=HYPERLINK("http://x")' in cells
    assert "'@SUM(A1)" in cells
    assert text.endswith("\r\n")


def test_json_names_its_codebook_verification_and_k(app: Flask) -> None:
    table = hostile_table()
    with app.test_request_context():
        data = table_as_json(table)
    assert data["codebook_versions"] == ["2026.2"]
    assert data["verification"] == ["verified"]
    assert data["k"] == 5
    assert data["columns"] is None
    # The total is perturbed on its own, from the summed counts and record keys.
    assert data["cells"][-1] == {"row": TOTAL, "row_label": "Insgesamt",
                                 "count": PERTURBATION.publish_cell(16, 400)}  # fmt: skip
    assert [cell["count"] for cell in data["cells"]] == list(table.protected.values.values())


def test_a_two_dimensional_table_exports_every_cell_and_total_as_published(app: Flask) -> None:
    cells = {("be", "threat"): Cell(12, 1500), ("sn", "threat"): Cell(2, 40)}
    protected = protect_table(cells, ("be", "sn"), ("threat", "insult"), PERTURBATION)
    table = StatisticsTable(
        query=StatisticsQuery(rows="land", columns="type"),
        rows=(Category("be", "Berlin"), Category("sn", "Sachsen")),
        columns=(Category("threat", "Bedrohung"), Category("insult", "Beleidigung")),
        protected=protected,
        codebook_versions=("2026.2",),
        made_on=dt.date(2026, 11, 26),
    )
    with app.test_request_context():
        lines = list(csv.reader(io.StringIO(table_as_csv(table))))
        data = table_as_json(table)
    assert lines[0] == ["land", "land_label", "type", "type_label", "count", "k", "verification",
                        "types", "codebook_versions"]  # fmt: skip
    published = {(line[0], line[2]): int(line[4]) for line in lines[1:]}
    assert list(published) == list(protected.values)  # every cell and margin, in table order
    assert published == dict(protected.values)
    assert published[("be", "insult")] == 0  # nothing counted: a published 0
    assert published[(TOTAL, TOTAL)] == PERTURBATION.publish_cell(14, 1540)
    assert {(cell["row"], cell["column"]): cell["count"] for cell in data["cells"]} == published
    assert all(set(cell) == {"row", "row_label", "column", "column_label", "count"}
               for cell in data["cells"])  # fmt: skip


def test_a_period_exports_the_days_it_counts_and_whether_it_is_partial(app: Flask) -> None:
    begin, today = dt.date(2025, 3, 1), dt.date(2026, 11, 26)
    coverages = [period_coverage(code, begin, today) for code in ("2025", "2026")]
    cells = {("2025", "be"): Cell(12, 1500), ("2026", "be"): Cell(7, 40)}
    protected = protect_table(cells, ("2025", "2026"), ("be",), PERTURBATION)
    table = StatisticsTable(
        query=StatisticsQuery(rows="period", columns="land"),
        rows=tuple(Category(c.code, f"{c.code} (…)", c) for c in coverages),
        columns=(Category("be", "Berlin"),),
        protected=protected,
        codebook_versions=("2026.3",),
        made_on=today,
    )
    with app.test_request_context():
        lines = list(csv.reader(io.StringIO(table_as_csv(table))))
        data = table_as_json(table)
    assert lines[0][:7] == ["period", "period_label", "period_first_day", "period_last_day",
                            "period_partial", "land", "land_label"]  # fmt: skip
    days = {line[0]: line[2:5] for line in lines[1:] if line[5] == "be"}
    assert days == {
        "2025": ["2025-03-01", "2025-12-31", "true"],
        "2026": ["2026-01-01", "2026-11-26", "true"],
        TOTAL: ["", "", ""],
    }
    assert data["rows"]["categories"] == [
        {"code": "2025", "label": "2025 (…)", "first_day": "2025-03-01",
         "last_day": "2025-12-31", "partial": True},
        {"code": "2026", "label": "2026 (…)", "first_day": "2026-01-01",
         "last_day": "2026-11-26", "partial": True},
    ]  # fmt: skip
    # Categories that are no periods carry no days.
    assert data["columns"]["categories"] == [{"code": "be", "label": "Berlin"}]
