"""Protected tables as CSV and JSON files, and the audit event every export writes.

Both formats carry the same facts in every result: the codebook versions, the verification
statuses counted, k, and each cell's published (perturbed) number. CSV is long format (one line
per cell, totals included) so it loads into any tool without reshaping. A period also carries
the days it counts and whether it is partial (the current one, and the one the data begin in:
app/research/periods.py): in JSON on its category, in CSV in three columns beside its label.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, Final

from flask import Response, jsonify
from flask_babel import gettext as _

from app.audit import AuditTag, record_event
from app.research.disclosure import TOTAL
from app.research.statistics import PERIOD, Category, StatisticsTable

FORMATS: Final = ("csv", "json")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """``text`` as a spreadsheet shows it but never runs it: a leading ``'`` where needed."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# What a period's category says of the days it counts (the rest of its fields: code, label).
COVERAGE_FIELDS: Final = ("first_day", "last_day", "partial")


def category_fields(category: Category) -> dict[str, Any]:
    """A category as the JSON lists it: code and label, and for a period the days it counts
    (ISO dates, both included) and whether these are fewer than the whole period's."""
    fields: dict[str, Any] = {"code": category.code, "label": category.label}
    if category.coverage is not None:
        fields["first_day"] = category.coverage.first_day.isoformat()
        fields["last_day"] = category.coverage.last_day.isoformat()
        fields["partial"] = category.coverage.partial
    return fields


def _coverage_cells(dimension: str, category: Category | None) -> list[str]:
    """The CSV's covered-days columns of a period dimension (empty on the totals' line)."""
    if dimension != PERIOD:
        return []
    if category is None or category.coverage is None:
        return ["", "", ""]
    coverage = category.coverage
    partial = "true" if coverage.partial else "false"
    return [coverage.first_day.isoformat(), coverage.last_day.isoformat(), partial]


def _lines(table: StatisticsTable) -> Iterator[tuple[Category | None, Category | None, int]]:
    """(row, column, published count) per cell in row and column order; None for a total."""
    rows: list[Category | None] = [*table.rows, None]
    # A two-dimensional query keeps its column fields even when no column has a category yet
    # (periods with no incident counted): the CSV header and the JSON schema promise them.
    columns: list[Category | None] = [*table.columns, None]
    for row in rows:
        for column in columns:
            key = (row.code if row else TOTAL, column.code if column else TOTAL)
            yield row, column, table.protected.values[key]


def table_lines(table: StatisticsTable) -> Iterator[dict[str, Any]]:
    """One dict per published cell (totals included), in row and column order."""
    total = _("Insgesamt")
    for row, column, count in _lines(table):
        line: dict[str, Any] = {"row": row.code if row else TOTAL,
                                "row_label": row.label if row else total}  # fmt: skip
        if table.query.columns:
            line |= {"column": column.code if column else TOTAL,
                     "column_label": column.label if column else total}  # fmt: skip
        line["count"] = count
        yield line


def _coverage_header(dimension: str) -> list[str]:
    return [f"{dimension}_{name}" for name in COVERAGE_FIELDS] if dimension == PERIOD else []


def table_as_csv(table: StatisticsTable) -> str:
    """The table as CSV (RFC 4180, comma, CRLF), every text cell neutralised."""
    query = table.query
    header = [query.rows, f"{query.rows}_label", *_coverage_header(query.rows)]
    if query.columns:
        header += [query.columns, f"{query.columns}_label", *_coverage_header(query.columns)]
    header += ["count", "k", "verification", "types", "codebook_versions"]
    common = [
        str(table.k),
        " ".join(query.verification),
        query.types,
        " ".join(table.codebook_versions),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for line, (row, column, _count) in zip(table_lines(table), _lines(table), strict=True):
        cells = [line["row"], line["row_label"], *_coverage_cells(query.rows, row)]
        if query.columns:
            cells += [line["column"], line["column_label"], *_coverage_cells(query.columns, column)]
        cells += [str(line["count"]), *common]
        writer.writerow([neutralise_formula(cell) for cell in cells])
    return buffer.getvalue()


def table_as_json(table: StatisticsTable) -> dict[str, Any]:
    """The table as a JSON-ready dict (described in /api/v1/openapi.json as StatisticsTable)."""
    query = table.query
    return {
        "query": query.as_parameters(),
        "k": table.k,
        "verification": list(query.verification),
        "types": query.types,
        "codebook_versions": list(table.codebook_versions),
        "made_on": table.made_on.isoformat(),
        "rows": {
            "dimension": query.rows,
            "categories": [category_fields(c) for c in table.rows],
        },
        "columns": (
            {
                "dimension": query.columns,
                "categories": [category_fields(c) for c in table.columns],
            }
            if query.columns
            else None
        ),
        "total_code": TOTAL,
        "cells": list(table_lines(table)),
    }


def record_export(
    table: StatisticsTable, file_format: str, *, actor_id: int | None, token_id: int | None
) -> None:
    """Write ``statistics:export`` naming who took which table in which format."""
    record_event(
        AuditTag.STATISTICS_EXPORT,
        f"Statistics table exported as {file_format}",
        actor_id=actor_id,
        target_type="api_token" if token_id is not None else None,
        target_id=token_id,
        details={"format": file_format, "query": table.query.as_parameters()},
    )


def export_response(table: StatisticsTable, file_format: str) -> Response:
    """The table as a download (the API answers with the same files)."""
    name = "-".join(filter(None, ["meldeportal", table.query.rows, table.query.columns,
                                  table.made_on.isoformat()]))  # fmt: skip
    if file_format == "csv":
        response = Response(table_as_csv(table), mimetype="text/csv")
    else:
        response = jsonify(table_as_json(table))
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response
