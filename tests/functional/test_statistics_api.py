"""GET /api/v1/statistics: tokens, formats, refusals, audit, and conformance to its OpenAPI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.api.openapi import build_openapi
from app.api.tokens import create_token
from app.api.views import STATISTICS_PARAMETERS
from app.audit import AuditTag
from app.codebook import current_codebook
from app.dates import MONTH_PATTERN
from app.extensions import db
from app.models import AuditEvent
from tests.functional.test_partner_api import (
    ANNOTATIONS,
    VALIDATED,
    assert_json_error,
    keywords,
    schema_errors,
)
from tests.integration.test_statistics import counted_incident
from tests.integration.test_statistics_page import published_keys

STATISTICS = "/api/v1/statistics"


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture
def record_keys(intake_app: Flask) -> dict[str, list[int]]:
    """The counted incidents' record keys by Land: 7 in Berlin and 2 in Bremen in 2025,
    9 threats in North Rhine-Westphalia in 2026."""
    with intake_app.test_request_context():
        made = {
            "be": [counted_incident(coded_land="be", day=dt.date(2025, 6, 1)) for _ in range(7)],
            "hb": [counted_incident(coded_land="hb", day=dt.date(2025, 6, 1)) for _ in range(2)],
            "nw": [counted_incident(coded_land="nw", day=dt.date(2026, 2, 1), types=("threat",))
                   for _ in range(9)],
        }  # fmt: skip
        db.session.commit()
        return {land: [incident.record_key for incident in group] for land, group in made.items()}


@pytest.fixture
def researcher_token(intake_app: Flask, record_keys: dict[str, list[int]]) -> str:
    with intake_app.test_request_context():
        _token, text = create_token("Institut", ["statistics"], today=today())
        db.session.commit()
    return text


def fetch(client: FlaskClient, token: str | None, **parameters: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(STATISTICS, query_string=parameters, headers=headers)


def test_tokens_without_the_statistics_scope_are_refused(
    intake_app: Flask, researcher_token: str
) -> None:
    client = intake_app.test_client()
    with intake_app.app_context():
        _t, submit_only = create_token("Beratung", ["submit"], today=today())
        expired, expired_text = create_token("Alt", ["statistics"], today=today())
        expired.expires_on = today()
        revoked, revoked_text = create_token("Weg", ["statistics"], today=today())
        revoked.revoked_on = today()
        db.session.commit()
    for token in (None, "mp_" + "A" * 43, submit_only, expired_text, revoked_text):
        response = fetch(client, token, rows="land")
        assert_json_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert fetch(client, researcher_token, rows="land").status_code == 200


def test_a_table_as_json_and_csv_with_an_audit_event_each(
    intake_app: Flask, researcher_token: str, record_keys: dict[str, list[int]]
) -> None:
    client = intake_app.test_client()
    answer = fetch(client, researcher_token, rows="land", columns="period")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    table = answer.get_json()
    assert all(set(cell) == {"row", "row_label", "column", "column_label", "count"}
               for cell in table["cells"])  # fmt: skip
    cells = {(cell["row"], cell["column"]): cell["count"] for cell in table["cells"]}
    be, hb, nw = record_keys["be"], record_keys["hb"], record_keys["nw"]
    # Bremen's two are published like any cell (as 0 or 5), perturbed by their own keys.
    assert cells[("hb", "2025")] == published_keys(intake_app, hb)
    assert cells[("hb", "2025")] in (0, 5)
    assert cells[("be", "2025")] == published_keys(intake_app, be)
    assert cells[("nw", "2026")] == published_keys(intake_app, nw)
    assert cells[("hb", "2026")] == 0
    # Totals are perturbed from their own incidents, not added up from the published cells.
    assert cells[("_total", "2025")] == published_keys(intake_app, be, hb)
    assert cells[("nw", "_total")] == cells[("nw", "2026")]
    assert cells[("_total", "_total")] == published_keys(intake_app, be, hb, nw)
    assert table["codebook_versions"] == [current_codebook().version]
    assert table["verification"] == ["verified"]
    assert table["k"] == 5
    assert all(isinstance(n, int) for n in cells.values())
    assert not [n for n in cells.values() if 0 < n < table["k"]]
    text = fetch(client, researcher_token, rows="land", format="csv", lang="en")
    assert text.status_code == 200
    assert text.mimetype == "text/csv"
    assert "attachment" in text.headers["Content-Disposition"]
    reader = csv.DictReader(io.StringIO(text.get_data(as_text=True)))
    assert "suppressed" not in (reader.fieldnames or [])
    lines = list(reader)
    by_land = {line["land"]: line for line in lines}
    # The same incidents as in the JSON table by Land and period: the same numbers.
    assert by_land["nw"]["count"] == str(cells[("nw", "_total")])
    assert by_land["be"]["count"] == str(cells[("be", "_total")])
    assert by_land["hb"]["count"] == str(published_keys(intake_app, hb))
    assert by_land["_total"]["count"] == str(cells[("_total", "_total")])
    assert by_land["nw"]["land_label"] == "North Rhine-Westphalia"
    assert {line["codebook_versions"] for line in lines} == {current_codebook().version}
    with intake_app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.STATISTICS_EXPORT)
        ).all()
        assert [event.details["format"] for event in events] == ["json", "csv"]
        assert events[-1].target_type == "api_token"
        assert events[-1].details["query"]["rows"] == "land"


def test_parameters_that_are_not_understood_are_named(
    intake_app: Flask, researcher_token: str
) -> None:
    client = intake_app.test_client()
    unknown = assert_json_error(fetch(client, researcher_token, colour="red"), 400, "bad_request")
    assert unknown["unknown_fields"] == ["colour"]
    wrong = assert_json_error(fetch(client, researcher_token, rows="colour"), 400, "bad_request")
    assert wrong["parameter"] == "rows"
    assert_json_error(fetch(client, researcher_token, format="xlsx"), 400, "bad_request")
    assert_json_error(fetch(client, researcher_token, lang="fr"), 400, "bad_request")


# --- Conformance to the OpenAPI document ----------------------------------------------------


def _document() -> dict[str, Any]:
    return build_openapi(current_codebook())


def test_the_statistics_operation_uses_only_checked_keywords() -> None:
    document = _document()
    operation = document["paths"][STATISTICS]["get"]
    schemas = [parameter["schema"] for parameter in operation["parameters"]]
    schemas.append(document["components"]["schemas"]["StatisticsTable"])
    assert keywords(schemas) <= VALIDATED | ANNOTATIONS
    assert {"200", "400", "401"} <= set(operation["responses"])
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert names == STATISTICS_PARAMETERS  # the document lists what the API reads


def _value_for(name: str, schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """Values a client may send for a parameter, read from its schema; ranges start and end
    whole years, which lie on the grid of every period length."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    pattern = schema["pattern"]
    if pattern == MONTH_PATTERN:
        month = "01" if name == "from" else "12"
        return st.integers(2023, 2026).map(lambda year: f"{year}-{month}")
    codes = pattern.removeprefix("^(").split(")")[0].split("|")
    return st.lists(st.sampled_from(codes), min_size=1, max_size=3).map(",".join)


def _queries() -> st.SearchStrategy[dict[str, str]]:
    parameters = _document()["paths"][STATISTICS]["get"]["parameters"]
    optional = {
        p["name"]: st.one_of(st.none(), _value_for(p["name"], p["schema"])) for p in parameters
    }
    return st.fixed_dictionaries(optional).map(
        lambda chosen: {name: value for name, value in chosen.items() if value is not None}
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=_queries())
def test_every_answer_conforms_to_the_document(
    intake_app: Flask, researcher_token: str, query: dict[str, str]
) -> None:
    """Like schemathesis: requests drawn from the document's own parameter schemas; a request
    the schemas allow gets 200 with a table its schema accepts, or a 400 Error for the rules no
    schema can say (rows equal to columns, ``to`` before ``from``)."""
    document = _document()
    response = fetch(intake_app.test_client(), researcher_token, **query)
    schemas = document["components"]["schemas"]
    impossible = query.get("rows", "period") == query.get("columns") or (
        "from" in query and "to" in query and query["from"] > query["to"]
    )
    if impossible:
        assert response.status_code == 400
        assert schema_errors(response.get_json(), schemas["Error"], document) == []
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    if query.get("format") == "csv":
        assert response.mimetype == "text/csv"
        return
    table = response.get_json()
    assert schema_errors(table, schemas["StatisticsTable"], document) == []
    counts = [cell["count"] for cell in table["cells"]]
    assert all(isinstance(n, int) for n in counts)  # nothing is withheld
    assert not [n for n in counts if 0 < n < table["k"]]
    json.dumps(table)


def test_a_statistics_token_from_the_command_line_reads_tables(intake_app: Flask) -> None:
    result = intake_app.test_cli_runner().invoke(
        args=["tokens", "create", "--scope", "statistics", "--name", "Institut"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("mp_")
    client = intake_app.test_client()
    assert fetch(client, token, rows="land").status_code == 200
    # The same token cannot send reports: scopes are separate.
    assert client.post("/api/v1/reports", headers={"Authorization": f"Bearer {token}"},
                       json={}).status_code == 401  # fmt: skip


def test_a_table_whose_filter_matches_nothing_looks_like_any_other(
    intake_app: Flask, researcher_token: str
) -> None:
    """No incident under the filter: the table still has every period of all countable
    incidents, each 0, so nothing but the (perturbed) numbers tells that the set is empty. The
    conformance test once found such a table without its column fields."""
    client = intake_app.test_client()
    query = {"rows": "type", "columns": "period", "age_band": "under_18"}
    text = fetch(client, researcher_token, **query, format="csv")
    assert text.status_code == 200
    header = text.get_data(as_text=True).splitlines()[0].split(",")
    assert header[:4] == ["type", "type_label", "period", "period_label"]
    table = fetch(client, researcher_token, **query).get_json()
    every = fetch(client, researcher_token, rows="type", columns="period").get_json()
    assert table["columns"]["categories"] == every["columns"]["categories"]
    assert table["columns"]["categories"] != []
    assert table["codebook_versions"] == every["codebook_versions"]
    assert {cell["count"] for cell in table["cells"]} == {0}


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({"from": "0000-01"}, "from"),  # these three raised inside ``datetime`` (issue 12)
        ({"to": "0000-12"}, "to"),
        ({"to": "9999-12"}, "to"),
        ({"from": "1989-12"}, "from"),
        ({"to": "2100-01"}, "to"),
        ({"from": "２０２６-０１"}, "from"),
        ({"from": " 2026-01"}, "from"),  # the API takes values exactly as documented
        ({"rows": ""}, "rows"),
        ({"land": "be,,sn"}, "land"),
        ({"verification": " verified"}, "verification"),
    ],
)
def test_months_outside_the_range_and_loose_values_are_named(
    intake_app: Flask, researcher_token: str, parameters: dict[str, str], named: str
) -> None:
    response = fetch(intake_app.test_client(), researcher_token, **{"rows": "land", **parameters})
    body = assert_json_error(response, 400, "bad_request")
    assert body["parameter"] == named
    assert named in body["message"]


def test_the_edges_of_the_range_are_counted(
    intake_app: Flask, researcher_token: str, record_keys: dict[str, list[int]]
) -> None:
    client = intake_app.test_client()
    table = fetch(client, researcher_token, rows="period", period="month", **{"from": "2026-01",
                  "to": "2099-12"}).get_json()  # fmt: skip
    rows = [category["code"] for category in table["rows"]["categories"]]
    assert rows[0] == "2026-01"
    assert rows[-1] == today().strftime("%Y-%m")  # never past the current month
    early = fetch(client, researcher_token, rows="land", **{"from": "1990-01"})
    assert early.status_code == 200
    assert early.get_json()["cells"][-1]["count"] == published_keys(
        intake_app, *record_keys.values()
    )
