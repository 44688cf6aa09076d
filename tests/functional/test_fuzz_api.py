"""Schemathesis against the partner API's own OpenAPI document, with a valid token of each scope.

Positive cases are requests the document allows; negative cases break one of its rules (a
wrong JSON type, a pattern, an enum, a missing key). Every answer must be documented — its
status code (the document lists each one, with no catch-all ``default``), content type,
headers and body schema — nothing may be a server error, and a request the document forbids
must be refused. The runs are derandomised, so CI sees the same cases every time; PostgreSQL
gets a shorter run of the same cases.

What these runs found on the code before issue 12's fixes: a month in year 0
(``incident_month=0000-01``, ``from=0000-01``) raised inside ``datetime.date`` (500); an answer
to a question that does not apply was not read at all, so ``period_start: "2024-13-01"`` next to
``date_kind: "exact"`` was accepted although the document forbids it; and an empty ``from=`` was
taken for "not given" although the document's pattern refuses it. (The lenient JSON reading —
``"yes"`` for a consent, a bare string for several answers — is pinned down by the examples in
test_partner_api.py.)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.openapi import REPORTS_PATH, STATISTICS_PATH, build_openapi
from app.api.tokens import STATISTICS, SUBMIT, create_token
from app.codebook import current_codebook
from app.extensions import db
from tests.integration.test_statistics import counted_incident

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
OPERATIONS = [(REPORTS_PATH, "POST", SUBMIT), (STATISTICS_PATH, "GET", STATISTICS)]
EXAMPLES = {"sqlite": 80, "postgresql": 20}


def _schema_without_security() -> Any:
    """The served document, minus its security requirement: the tests send a valid token
    themselves, so that every negative case breaks the request and not the (replaced) header."""
    document = build_openapi(current_codebook())
    for item in document["paths"].values():
        for operation in item.values():
            operation["security"] = []
    return schemathesis.openapi.from_dict(document)


def _token(app: Flask, scope: str) -> str:
    with app.app_context():
        _row, text = create_token("Fuzzing", [scope], today=dt.datetime.now(dt.UTC).date())
        if scope == STATISTICS:  # something to count, with a cell below k (perturbed, not withheld)
            for land, count in (("be", 7), ("hb", 2)):
                for _ in range(count):
                    counted_incident(coded_land=land, day=dt.date(2025, 6, 1))
        db.session.commit()
    return text


def _engine(app: Flask) -> str:
    return "postgresql" if "postgresql" in str(app.config["DATABASE_URL"]) else "sqlite"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("path", "method", "scope"), OPERATIONS, ids=["reports", "statistics"])
def test_the_api_answers_as_its_document_says(
    intake_app: Flask, path: str, method: str, scope: str, mode: GenerationMode
) -> None:
    operation = _schema_without_security()[path][method]
    bearer = _token(intake_app, scope)
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES[_engine(intake_app)],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def answer_conforms(case: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {bearer}"}
        response = case.call(app=intake_app)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    answer_conforms()
    # The run reached the API's rules, not only its door.
    assert 401 not in statuses
    if mode == GenerationMode.NEGATIVE:
        assert set(statuses) <= {400, 422}
    else:
        assert statuses[201 if scope == SUBMIT else 200] > 0


def test_every_status_is_listed_without_a_catch_all() -> None:
    """Schemathesis accepts any status where ``default`` is documented: so there is none."""
    paths = build_openapi(current_codebook())["paths"]
    assert set(paths[REPORTS_PATH]["post"]["responses"]) == {
        "201", "400", "401", "413", "422", "429", "500"
    }  # fmt: skip
    assert set(paths[STATISTICS_PATH]["get"]["responses"]) == {"200", "400", "401", "429", "500"}
