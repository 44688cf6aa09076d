"""Protected tables as CSV and JSON files, and the audit event every export writes.

Both formats carry the same facts in every result: the codebook versions, the verification
statuses counted, k, and each cell's published (perturbed) number. CSV is long format (one line
per cell, totals included) so it loads into any tool without reshaping.
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
from app.research.statistics import StatisticsTable

FORMATS: Final = ("csv", "json")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """``text`` as a spreadsheet shows it but never runs it: a leading ``'`` where needed."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def table_lines(table: StatisticsTable) -> Iterator[dict[str, Any]]:
    """One dict per published cell (totals included), in row and column order."""
    total = _("Insgesamt")
    rows = [*((row.code, row.label) for row in table.rows), (TOTAL, total)]
    # A two-dimensional query keeps its column fields even when no column has a category yet
    # (periods with no incident counted): the CSV header and the JSON schema promise them.
    columns = [*((column.code, column.label) for column in table.columns), (TOTAL, total)]
    for row_code, row_label in rows:
        for column_code, column_label in columns:
            key = (row_code, column_code)
            line: dict[str, Any] = {"row": row_code, "row_label": row_label}
            if table.query.columns:
                line |= {"column": column_code, "column_label": column_label}
            line["count"] = table.protected.values[key]
            yield line


def table_as_csv(table: StatisticsTable) -> str:
    """The table as CSV (RFC 4180, comma, CRLF), every text cell neutralised."""
    query = table.query
    header = [query.rows, f"{query.rows}_label"]
    if query.columns:
        header += [query.columns, f"{query.columns}_label"]
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
    for line in table_lines(table):
        cells = [line["row"], line["row_label"]]
        if query.columns:
            cells += [line["column"], line["column_label"]]
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
            "categories": [{"code": c.code, "label": c.label} for c in table.rows],
        },
        "columns": (
            {
                "dimension": query.columns,
                "categories": [{"code": c.code, "label": c.label} for c in table.columns],
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
