"""CSV and JSON exports: every cell is escaped against spreadsheet formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from app.research.disclosure import protect_table
from app.research.exports import FORMULA_STARTS, neutralise_formula, table_as_csv, table_as_json
from app.research.statistics import Category, StatisticsQuery, StatisticsTable


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
    protected = protect_table({("a", "_total"): 7, ("b", "_total"): 9}, rows, (), 5)
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
    assert lines[0][:3] == ["place_type", "place_type_label", "count"]
    cells = [cell for line in lines for cell in line]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert '\'=HYPERLINK("http://x")' in cells
    assert "'@SUM(A1)" in cells
    assert text.endswith("\r\n")


def test_json_names_its_codebook_verification_and_k(app: Flask) -> None:
    with app.test_request_context():
        data = table_as_json(hostile_table())
    assert data["codebook_versions"] == ["2026.2"]
    assert data["verification"] == ["verified"]
    assert data["k"] == 5
    assert data["columns"] is None
    assert data["cells"][-1] == {"row": "_total", "row_label": "Insgesamt", "count": 16,
                                 "suppressed": None}  # fmt: skip
