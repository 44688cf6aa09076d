"""The OpenAPI 3.1 document of the partner API, with the request schema made from the codebook.

The codebook stays the single source: every question becomes a property of the report schema
with its type, answer codes, length limit and condition, so the document cannot drift from the
rules ``parse_answers`` applies. What a schema cannot say (a date in the future, a period that
ends before it starts, an address that is not deliverable) still answers 422.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from app.codebook import Codebook, Question, current_codebook
from app.config import DEFAULT_LANGUAGE, LANGUAGES
from app.dates import DATE_PATTERN, EARLIEST_DATE, MONTH_PATTERN
from app.models.incident import NOT_VERIFIABLE, VERIFIED
from app.research.statistics import (
    DIMENSIONS,
    FILTERS,
    GRANULARITIES,
    NOT_STATED,
    TYPE_MODES,
    dimension_codes,
)

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REPORTS_PATH = "/api/v1/reports"
# The document is written in English: a question's title is its English label, and its label in
# every other configured language is an ``x-label-<code>`` extension.
TITLE_LANGUAGE = "en"
SHIPPED_LANGUAGES = tuple(language.code for language in LANGUAGES)
STATISTICS_PATH = "/api/v1/statistics"
DOCUMENT_PATH = "/api/v1/openapi.json"
# Questions the API does not take in this version (images need a multipart upload).
NOT_IN_API = frozenset({"images"})
# The receipt code as shown: five groups of four Crockford Base32 symbols.
RECEIPT_PATTERN = "^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$"
ERROR_SCHEMA = "#/components/schemas/Error"


def _condition_text(question: Question) -> str:
    condition = question.show_if
    assert condition is not None  # noqa: S101 - only called for conditional questions
    codes = " or ".join(f"`{code}`" for code in sorted(condition.any_of))
    text = (
        f"Stored only when `{condition.question}` has the answer {codes}; otherwise an answer "
        "given is checked all the same, then dropped."
    )
    return f"{text} Required then." if question.required else text


def _answer_schema(question: Question) -> dict[str, Any]:
    """The JSON Schema of one question's answer, as the parser reads it."""
    kind = question.kind
    if kind in {"single", "select"}:
        return {"type": "string", "enum": list(question.codes)}
    if kind == "multi":
        schema: dict[str, Any] = {
            "type": "array",
            "items": {"type": "string", "enum": list(question.codes)},
            "uniqueItems": True,
        }
        if question.required:
            schema["minItems"] = 1
        return schema
    if kind == "date":
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    if kind == "month":
        return {"type": "string", "pattern": MONTH_PATTERN}
    if kind in {"consent", "flag"}:
        # A required consent must be given: false is refused like a missing answer.
        return {"type": "boolean", "const": True} if question.required else {"type": "boolean"}
    if kind in NOT_IN_API:
        return {"not": {}}
    schema = {"type": "string", "maxLength": question.max_length}
    if question.required:
        schema["minLength"] = 1
    if kind == "email":
        schema["format"] = "email"
    if kind == "url":
        schema.update(format="uri", pattern="^https?://")
    return schema


def _property(question: Question, languages: tuple[str, ...]) -> dict[str, Any]:
    schema = {"title": question.label(TITLE_LANGUAGE), **_answer_schema(question)}
    notes = []
    if question.show_if is not None:
        notes.append(_condition_text(question))
    if question.kind in {"date", "month"}:
        notes.append(f"From {EARLIEST_DATE:%Y-%m} up to today (UTC); later answers 422.")
    if question.id in NOT_IN_API:
        notes.append("Not accepted by the API in this version: a body with this key answers 400.")
    elif question.sealed:
        notes.append("Stored sealed: only the moderation team can read it.")
    if notes:
        schema["description"] = " ".join(notes)
    schema["x-codebook-kind"] = question.kind
    for code in languages:
        if code != TITLE_LANGUAGE:
            schema[f"x-label-{code}"] = question.label(code)
    return schema


def _required_when(question: Question, codebook: Codebook) -> dict[str, Any]:
    """``if`` the condition holds ``then`` the question is required (JSON Schema 2020-12)."""
    condition = question.show_if
    assert condition is not None  # noqa: S101 - only called for conditional questions
    codes = sorted(condition.any_of)
    if codebook.question(condition.question).kind == "multi":
        test: dict[str, Any] = {"contains": {"enum": codes}}
    else:
        test = {"enum": codes}
    return {
        "if": {"properties": {condition.question: test}, "required": [condition.question]},
        "then": {"required": [question.id]},
    }


def report_schema(
    codebook: Codebook, languages: tuple[str, ...] = SHIPPED_LANGUAGES
) -> dict[str, Any]:
    """The request body of ``POST /api/v1/reports``: every codebook question, and ``language``."""
    questions = list(codebook.questions.values())
    properties = {question.id: _property(question, languages) for question in questions}
    properties["language"] = {
        "title": "Language of the error messages",
        "type": "string",
        "enum": list(languages),
        "default": DEFAULT_LANGUAGE,
    }
    return {
        "title": "Report",
        "description": (
            f"One report against codebook {codebook.version}: question id to answer. Choice "
            "questions take answer codes (an array of distinct codes where several answers are "
            "allowed), consents and flags true or false, dates YYYY-MM-DD, months YYYY-MM; "
            "no answer is null (leave the key out instead). Answers to questions whose "
            "condition does not hold are checked, then dropped. Free text (not e-mail "
            "addresses and links, which count exactly as sent) is stored normalised, never "
            "refused for its characters: control characters, lone surrogates, noncharacters "
            "and the byte order mark are removed, line breaks become LF, the text is trimmed "
            "and put in NFC; text with nothing visible left is no answer."
        ),
        "type": "object",
        "properties": properties,
        "required": [q.id for q in questions if q.required and q.show_if is None],
        "additionalProperties": False,
        "allOf": [
            _required_when(q, codebook) for q in questions if q.required and q.show_if is not None
        ],
    }


def _error_response(description: str, schema: str = ERROR_SCHEMA) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": schema}}},
    }


def _query_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


def _codes_list(codes: tuple[str, ...]) -> dict[str, Any]:
    """A comma-separated list of codes, as a pattern a client can check before sending."""
    alternatives = "|".join(codes)
    return {"type": "string", "pattern": f"^({alternatives})(,({alternatives}))*$"}


def statistics_parameters(
    codebook: Codebook, languages: tuple[str, ...] = SHIPPED_LANGUAGES
) -> list[dict[str, Any]]:
    """The query parameters of GET /api/v1/statistics (read by ``parse_query``)."""
    dimension = {"type": "string", "enum": list(DIMENSIONS)}
    filters = [
        _query_parameter(
            name,
            _codes_list(dimension_codes(name, codebook)),
            f"Count only these codes of `{name}` (comma-separated; `{NOT_STATED}` where the "
            "answer was not given)." if name in ("gender", "age_band") else
            f"Count only these codes of `{name}` (comma-separated; `{NOT_STATED}` where no "
            "town was given, `other` for a town not in the list)." if name == "town" else
            f"Count only these codes of `{name}` (comma-separated).",
        )
        for name in FILTERS
    ]  # fmt: skip
    return [
        _query_parameter("rows", {**dimension, "default": "period"}, "Dimension of the rows."),
        _query_parameter(
            "columns",
            dimension,
            "Dimension of the columns (not `rows`); leave out for a one-dimensional table.",
        ),  # fmt: skip
        _query_parameter(
            "period",
            {"type": "string", "enum": list(GRANULARITIES), "default": "year"},
            "Length of a period, by the month the incident happened in.",
        ),
        _query_parameter(
            "types",
            {"type": "string", "enum": list(TYPE_MODES), "default": "most_severe"},
            "`most_severe`: each incident once, by its most severe type; `every`: once per "
            "coded type (the totals then count mentions).",
        ),
        _query_parameter(
            "verification",
            {**_codes_list((VERIFIED, NOT_VERIFIABLE)), "default": VERIFIED},
            "The moderators' decisions counted; out-of-scope reports are never counted.",
        ),
        _query_parameter(
            "from",
            {"type": "string", "pattern": MONTH_PATTERN},
            "First month (YYYY-MM, 1990-01 to 2099-12) of the incidents counted.",
        ),  # fmt: skip
        _query_parameter(
            "to",
            {"type": "string", "pattern": MONTH_PATTERN},
            "Last month (YYYY-MM, 1990-01 to 2099-12) of the incidents counted; the table "
            "never goes past the current month.",
        ),  # fmt: skip
        *filters,
        _query_parameter(
            "format",
            {"type": "string", "enum": ["json", "csv"], "default": "json"},
            "Answer as JSON or as CSV.",
        ),  # fmt: skip
        _query_parameter(
            "lang",
            {"type": "string", "enum": list(languages), "default": DEFAULT_LANGUAGE},
            "Language of the labels.",
        ),  # fmt: skip
    ]


def statistics_table_schema() -> dict[str, Any]:
    categories = {
        "type": "object",
        "required": ["dimension", "categories"],
        "properties": {
            "dimension": {"type": "string", "enum": list(DIMENSIONS)},
            "categories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "label"],
                    "properties": {
                        "code": {"type": "string"},
                        "label": {"type": "string"},
                        # Only on periods (app/research/periods.py).
                        "first_day": {
                            "type": "string",
                            "format": "date",
                            "description": "Periods only: the first day counted.",
                        },
                        "last_day": {
                            "type": "string",
                            "format": "date",
                            "description": "Periods only: the last day counted (at most the "
                            "day the table was made).",
                        },
                        "partial": {
                            "type": "boolean",
                            "description": "Periods only: true when fewer days are counted "
                            "than the period has (the current period, and the one the data "
                            "begin in).",
                        },
                    },
                    # A period's category has all three, any other none.
                    "if": {"required": ["first_day"]},
                    "then": {"required": ["first_day", "last_day", "partial"]},
                },
            },
        },
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "required": [
            "query",
            "k",
            "verification",
            "types",
            "codebook_versions",
            "made_on",
            "rows",
            "columns",
            "total_code",
            "cells",
        ],  # fmt: skip
        "properties": {
            "query": {"type": "object", "additionalProperties": {"type": "string"}},
            "k": {
                "type": "integer",
                "minimum": 1,
                "description": "No published count lies between 1 and k-1.",
            },  # fmt: skip
            "verification": {"type": "array", "items": {"type": "string"}},
            "types": {"type": "string", "enum": list(TYPE_MODES)},
            "codebook_versions": {"type": "array", "items": {"type": "string"}},
            "made_on": {"type": "string", "format": "date"},
            "rows": categories,
            "columns": {"anyOf": [categories, {"type": "null"}]},
            "total_code": {"type": "string", "const": "_total"},
            "cells": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["row", "row_label", "count"],
                    "properties": {
                        "row": {"type": "string"},
                        "row_label": {"type": "string"},
                        "column": {"type": "string"},
                        "column_label": {"type": "string"},
                        "count": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "Perturbed by the cell-key method; never 1..k-1.",
                        },  # fmt: skip
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    }


def build_openapi(
    codebook: Codebook, languages: tuple[str, ...] = SHIPPED_LANGUAGES
) -> dict[str, Any]:
    """The whole document for ``codebook`` in ``languages`` (a fresh dict on every call)."""
    question_ids = [q.id for q in codebook.questions.values() if q.id not in NOT_IN_API]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Meldeportal partner API",
            "version": API_VERSION,
            "description": (
                "Counselling offices send reports of anti-Muslim incidents on behalf of the "
                "people they advise. Each report is checked against the same codebook as the "
                "public form and sealed the same way. The answer carries the report's receipt "
                "code: pass it on to the person, who can follow the report with it on the "
                "status page. The code is shown only in this answer and never stored. "
                "Researchers fetch protected statistics tables with a token of scope "
                "`statistics`. Requests are not logged with client addresses."
            ),
            "x-codebook": {"version": codebook.version, "hash": codebook.hash},
        },
        "paths": {
            REPORTS_PATH: {
                "post": {
                    "operationId": "submitReport",
                    "summary": "Submit one report",
                    "security": [{"partnerToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Report"}}
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Stored and sealed. Pass the receipt code on.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Receipt"}
                                }
                            },
                        },
                        "400": _error_response(
                            "Not a JSON object, unknown keys (listed in `unknown_fields`), "
                            "`images`, or an unknown `language`."
                        ),
                        "401": {
                            **_error_response(
                                "No token, or one that is unknown, revoked, expired or "
                                "without the scope `submit`."
                            ),
                            "headers": {
                                "WWW-Authenticate": {
                                    "schema": {"type": "string", "const": "Bearer"}
                                }
                            },
                        },
                        "413": _error_response("The body is larger than the API accepts."),
                        "422": _error_response(
                            "Answers the codebook refuses or of another JSON type than this "
                            "document gives them (null included), with a message per question in "
                            "the body's `language`.",
                            "#/components/schemas/InvalidAnswers",
                        ),
                        "429": _error_response("Too many reports from this address; try later."),
                        "500": _error_response("An unexpected failure; nothing was stored."),
                    },
                }
            },
            STATISTICS_PATH: {
                "get": {
                    "operationId": "getStatistics",
                    "summary": "One protected table of verified incidents",
                    "description": (
                        "Counts moderator-verified, coded incidents (duplicates once) by up to "
                        "two dimensions, with totals. Every count, totals included, is perturbed "
                        "by the cell-key method (the same incidents give the same number on "
                        "every path; no count is 1..k-1; totals need not add up; see the "
                        "README's Methodology). `from`/`to` start and end whole periods. Each "
                        "token may count a limited number of tables per hour and per day (429 "
                        "beyond). Every call is recorded in the audit log with its parameters."
                    ),
                    "security": [{"partnerToken": []}],
                    "parameters": statistics_parameters(codebook, languages),
                    "responses": {
                        "200": {
                            "description": "The table, as JSON or (format=csv) as CSV.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/StatisticsTable"}
                                },
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        "400": _error_response(
                            "A parameter that is unknown (`unknown_fields`) or not understood "
                            "(`parameter`)."
                        ),
                        "401": {
                            **_error_response(
                                "No token, or one that is unknown, revoked, expired or "
                                "without the scope `statistics`."
                            ),
                            "headers": {
                                "WWW-Authenticate": {
                                    "schema": {"type": "string", "const": "Bearer"}
                                }
                            },
                        },
                        "429": _error_response(
                            "This token's tables of the hour or the day are used up; try later."
                        ),
                        "500": _error_response("An unexpected failure."),
                    },
                }
            },
            DOCUMENT_PATH: {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document of this API.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "partnerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "A token `mp_…` from the operator (`flask tokens create --scope "
                        "submit|statistics --name NAME`), sent as `Authorization: Bearer mp_…`."
                    ),
                }
            },
            "schemas": {
                "Report": report_schema(codebook, languages),
                "StatisticsTable": statistics_table_schema(),
                "Receipt": {
                    "type": "object",
                    "required": ["receipt_code", "codebook_version", "status_url"],
                    "properties": {
                        "receipt_code": {
                            "type": "string",
                            "pattern": RECEIPT_PATTERN,
                            "description": "For the person only; shown once, never stored.",
                        },
                        "codebook_version": {"type": "string", "const": codebook.version},
                        "status_url": {
                            "type": "string",
                            "description": "Path of the status page, in the body's language.",
                        },
                    },
                    "additionalProperties": False,
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "string",
                            "description": "e.g. bad_request, unauthorized, too_many_requests",
                        },
                        "message": {"type": "string"},
                        "unknown_fields": {"type": "array", "items": {"type": "string"}},
                        "parameter": {"type": "string"},
                    },
                },
                "InvalidAnswers": {
                    "type": "object",
                    "required": ["error", "fields"],
                    "properties": {
                        "error": {"type": "string", "const": "invalid"},
                        "fields": {
                            "type": "object",
                            "propertyNames": {"enum": question_ids},
                            "additionalProperties": {"type": "string"},
                            "description": "Question id to a message for the person.",
                        },
                    },
                    "additionalProperties": False,
                },
            },
        },
    }


@cache
def openapi_json(languages: tuple[str, ...] = SHIPPED_LANGUAGES) -> str:
    """The document for the installed codebook, serialised once per process and language set."""
    return json.dumps(build_openapi(current_codebook(), languages), ensure_ascii=False, indent=2)
