"""The partner API as a counselling office's software uses it, on SQLite and on PostgreSQL.

`POST /api/v1/reports` takes the same answers as the form, checks them with the same rules and
seals them the same way; `GET /api/v1/openapi.json` describes it, the request schema made from
the codebook. Refused tokens answer 401 (whatever the reason, a missing scope included); every
error is JSON, and hostile bodies answer 4xx, never 500.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

import app.api.views
from app.api.openapi import build_openapi, openapi_json, report_schema
from app.api.tokens import create_token
from app.api.views import MAX_BODY_BYTES
from app.codebook import Answer, Codebook, Condition, Question, Section, Text, current_codebook
from app.config import LANGUAGES
from app.crypto import keyring
from app.crypto.reports import open_report
from app.extensions import db
from app.intake.services import find_report
from app.models import ApiToken, AuditEvent, Incident, Report
from tests.factories import report_form_data
from tests.integration.test_canary import rows_containing
from tests.unit.intake.test_intake_cannot_open import OPENING, imported_names

REPORTS = "/api/v1/reports"
DOCUMENT = "/api/v1/openapi.json"
RECEIPT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def api_body(**changes: Any) -> dict[str, Any]:
    """The factory's valid report as a partner sends it: JSON true for the consent."""
    return report_form_data(**{"consent_special_categories": True, **changes})


@pytest.fixture
def partner(intake_app: Flask) -> str:
    """A token with the scope `submit`."""
    with intake_app.app_context():
        _token, text = create_token("Beratungsstelle Test", ["submit"], today=today())
        db.session.commit()
    return text


@pytest.fixture
def api(intake_app: Flask) -> FlaskClient:
    return intake_app.test_client()


@pytest.fixture
def in_context(intake_app: Flask) -> Iterator[Flask]:
    with intake_app.app_context():
        yield intake_app


def post(client: FlaskClient, token: str | None, body: Any = None, **kwargs: Any) -> TestResponse:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if body is not None:
        kwargs["json"] = body
    return client.post(REPORTS, headers=headers, **kwargs)


def stored_reports(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Report)) or 0)


def assert_json_error(response: TestResponse, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert isinstance(body, dict)
    assert body["error"] == error
    return body


# --- Authentication ------------------------------------------------------------------------------


def refused_tokens(app: Flask, partner: str) -> dict[str, dict[str, str]]:
    """Authorization headers the API must refuse, by what is wrong with them."""
    with app.app_context():
        _t, statistics_only = create_token("Forschung", ["statistics"], today=today())
        revoked, revoked_text = create_token("Alt", ["submit"], today=today())
        revoked.revoked_on = today()
        expired, expired_text = create_token("Abgelaufen", ["submit"], today=today())
        expired.expires_on = today()  # refused from its expiry date on
        db.session.commit()
    return {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "unknown token": {"Authorization": "Bearer mp_" + "A" * 43},
        "token without scheme": {"Authorization": partner},
        "basic scheme": {"Authorization": f"Basic {partner}"},
        "statistics only": {"Authorization": f"Bearer {statistics_only}"},
        "revoked": {"Authorization": f"Bearer {revoked_text}"},
        "expired": {"Authorization": f"Bearer {expired_text}"},
    }


def test_without_a_valid_token_nothing_is_read_or_stored(
    intake_app: Flask, api: FlaskClient, partner: str
) -> None:
    for reason, headers in refused_tokens(intake_app, partner).items():
        # The valid token also rides in the query string, which the API never reads: query
        # strings end up in logs and browser histories.
        response = api.post(f"{REPORTS}?token={partner}", json=api_body(), headers=headers)
        assert_json_error(response, 401, "unauthorized")
        assert response.get_json() == {"error": "unauthorized"}, reason
        assert response.headers["WWW-Authenticate"] == "Bearer", reason
    assert stored_reports(intake_app) == 0
    with intake_app.app_context():
        assert db.session.scalars(select(ApiToken.last_used_on)).all() == [None] * 4


def test_the_scheme_name_is_case_insensitive(api: FlaskClient, partner: str) -> None:
    response = api.post(REPORTS, json=api_body(), headers={"Authorization": f"bearer  {partner}"})
    assert response.status_code == 201


# --- A report -------------------------------------------------------------------------------------


def test_a_valid_report_is_sealed_stored_and_found_by_its_receipt_code(
    intake_app: Flask, api: FlaskClient, partner: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with intake_app.app_context():
        events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    body = api_body()

    response = post(api, partner, body)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.get_json()
    assert set(answer) == {"receipt_code", "codebook_version", "status_url"}
    assert RECEIPT.match(answer["receipt_code"])
    assert answer["codebook_version"] == current_codebook().version
    assert answer["status_url"] == "/de/report/status"
    assert "Set-Cookie" not in response.headers

    secret = str(intake_app.config["RECEIPT_SECRET"]).encode()
    with intake_app.app_context():
        report = db.session.scalars(select(Report)).one()
        incident = db.session.scalars(select(Incident)).one()
        assert incident.report_id == report.id
        assert incident.source == "api"
        assert incident.land == "sn"
        assert incident.town == "leipzig"
        assert incident.codes_for("incident_types") == ["threat", "verbal_abuse"]
        assert report.submitted_on == today()
        assert report.codebook_hash == current_codebook().hash
        assert {field.name for field in report.fields} == {
            "description", "district", "perpetrator_description",
        }  # fmt: skip
        found = find_report(answer["receipt_code"], secret)
        assert found is not None
        assert found[0].id == report.id
        # The description and the receipt code are in no column; no event dates the report.
        assert rows_containing(body["description"]) == []
        assert rows_containing(answer["receipt_code"].replace("-", "")) == []
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before
        token = db.session.scalars(select(ApiToken)).one()
        assert token.last_used_on == today()
    assert body["description"] not in caplog.text
    assert answer["receipt_code"] not in caplog.text
    assert partner not in caplog.text


def test_the_status_url_follows_the_language(api: FlaskClient, partner: str) -> None:
    response = post(api, partner, api_body(language="en"))
    assert response.status_code == 201
    assert response.get_json()["status_url"] == "/en/report/status"


def test_each_report_gets_its_own_receipt_code(
    intake_app: Flask, api: FlaskClient, partner: str
) -> None:
    codes = {post(api, partner, api_body()).get_json()["receipt_code"] for _ in range(3)}
    assert len(codes) == 3
    assert stored_reports(intake_app) == 3


def test_the_longest_report_fits_under_the_body_limit(
    intake_app: Flask, api: FlaskClient, partner: str
) -> None:
    """Every text at its limit, in characters JSON escapes as surrogate pairs (12 bytes each)."""
    codebook = current_codebook()

    def longest(question_id: str, start: str = "") -> str:
        limit = codebook.question(question_id).max_length
        assert limit is not None
        return start + "😀" * (limit - len(start))

    body = api_body(
        town="other",
        town_other=longest("town_other"),
        district=longest("district"),
        place_type="online",
        platform="other",
        online_link=longest("online_link", "https://example.org/"),
        incident_types=list(codebook.question("incident_types").codes),
        other_type=longest("other_type"),
        description=longest("description"),
        perpetrator_description=longest("perpetrator_description"),
        why_not_text=longest("why_not_text"),
        contact_email="person@example.org",
    )
    free_text = {q.id for q in codebook.questions.values() if q.kind in {"text", "textarea", "url"}}
    assert free_text <= set(body)
    encoded = json.dumps(body).encode()
    assert len(encoded) < MAX_BODY_BYTES
    response = post(api, partner, data=encoded, content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)
    with intake_app.app_context():
        report = db.session.scalars(select(Report)).one()
        assert len(report.fields) == len(free_text) + 1  # and the e-mail address


# --- Refused answers: 422 with messages for the person -------------------------------------------


@pytest.mark.parametrize(
    ("language", "required", "unknown_choice"),
    [
        ("de", "Bitte beantworten Sie diese Frage.", "Diese Antwort gibt es nicht."),
        ("en", "Please answer this question.", "This answer does not exist."),
        (None, "Bitte beantworten Sie diese Frage.", "Diese Antwort gibt es nicht."),
    ],
)
def test_invalid_answers_get_a_message_per_question_in_the_language(
    intake_app: Flask,
    api: FlaskClient,
    partner: str,
    language: str | None,
    required: str,
    unknown_choice: str,
) -> None:
    body = api_body(description=None, land="atlantis", language=language)
    response = post(api, partner, body)
    answer = assert_json_error(response, 422, "invalid")
    assert set(answer) == {"error", "fields"}
    assert set(answer["fields"]) == {"description", "land"}
    assert answer["fields"]["description"] == required
    assert answer["fields"]["land"].startswith(unknown_choice)
    assert stored_reports(intake_app) == 0
    with intake_app.app_context():
        # The request rolled back: a refused report does not count as a use of the token.
        assert db.session.scalars(select(ApiToken.last_used_on)).one() is None


def test_the_rules_of_the_form_apply(api: FlaskClient, partner: str) -> None:
    future = (today() + dt.timedelta(days=2)).isoformat()
    response = post(api, partner, api_body(incident_date=future, language="en"))
    assert assert_json_error(response, 422, "invalid")["fields"] == {
        "incident_date": "The date is in the future."
    }
    response = post(
        api,
        partner,
        api_body(date_kind="period", incident_date=None, period_start="2026-05-02",
                 period_end="2026-05-01"),
    )  # fmt: skip
    assert set(assert_json_error(response, 422, "invalid")["fields"]) == {"period_end"}
    response = post(api, partner, api_body(consent_special_categories=False))
    assert set(assert_json_error(response, 422, "invalid")["fields"]) == {
        "consent_special_categories"
    }


# --- Malformed requests: 400 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": {"role": "affected"}}, "Content-Type: application/json"),
        ({"data": "role=affected", "content_type": "text/plain"}, "Content-Type"),
        ({"data": "{not json", "content_type": "application/json"}, "not valid JSON"),
        ({"data": b"\xff\xfe\xfd", "content_type": "application/json"}, "not valid JSON"),
        ({"data": "", "content_type": "application/json"}, "not valid JSON"),
        ({"json": [api_body()]}, "must be a JSON object"),
        ({"json": "a report"}, "must be a JSON object"),
        ({"json": None, "data": "null", "content_type": "application/json"}, "JSON object"),
        ({"json": api_body(images=[])}, "Images are not accepted"),
        ({"json": {**api_body(), "images": None}}, "Images are not accepted"),
        ({"json": api_body(language="fr")}, "`language` is one of: de, en"),
        ({"json": api_body(language=["de"])}, "`language` is one of"),
    ],
)
def test_malformed_requests_are_refused_with_a_reason(
    intake_app: Flask, api: FlaskClient, partner: str, kwargs: dict[str, Any], message: str
) -> None:
    if kwargs.get("json", 0) is None:
        del kwargs["json"]
    response = post(api, partner, **kwargs)
    answer = assert_json_error(response, 400, "bad_request")
    assert message in answer["message"]
    assert stored_reports(intake_app) == 0


def test_unknown_keys_are_named(intake_app: Flask, api: FlaskClient, partner: str) -> None:
    body = {**api_body(), "name": "Ayşe", "ip": "203.0.113.7", "x" * 500: 1}
    answer = assert_json_error(post(api, partner, body), 400, "bad_request")
    assert answer["unknown_fields"] == ["ip", "name", "x" * 64]
    body = {**api_body(), **{f"key{n:03}": n for n in range(100)}}
    answer = assert_json_error(post(api, partner, body), 400, "bad_request")
    assert answer["unknown_fields"] == [f"key{n:03}" for n in range(20)]
    assert stored_reports(intake_app) == 0


# --- Hostile values: 4xx in JSON, never 500 ------------------------------------------------------

HOSTILE_ANSWERS: list[dict[str, Any]] = [
    {"description": "x" * 10_001},
    {"description": "\ud800"},  # nothing left once the lone surrogate is removed
    {"description": "\u200b\x00\ufeff\udfff"},  # nothing visible
    {"description": 5},
    {"description": 1.5e308},
    {"description": True},
    {"description": {"text": "verschachtelt"}},
    {"description": ["zwei", "Teile"]},
    {"description": [[["tief"]]]},
    {"district": "x" * 121},
    {"contact_email": "nicht eine adresse"},
    {"contact_email": "a@" + "b" * 300 + ".de"},
    {"land": 7},
    {"land": ["sn", "by"]},
    {"land": {"code": "sn"}},
    {"land": "sn\x00"},
    {"role": None, "date_kind": None},
    {"incident_types": [1, 2]},
    {"incident_types": [["threat"]]},
    {"incident_types": {"threat": True}},
    {"incident_types": ["threat", "no_such_type"]},
    {"incident_types": []},
    {"consent_special_categories": 1},
    {"consent_special_categories": "false"},
    {"consent_special_categories": None},
    {"consent_special_categories": {"yes": True}},
    {"incident_date": "2026-02-30"},
    {"incident_date": "0000-01-01"},
    {"incident_date": "1989-12-31"},
    {"incident_date": "９９９９-01-01"},
    {"incident_date": 20261101},
    {"date_kind": "month", "incident_month": "2026-13"},
    {"date_kind": "month", "incident_month": ["2026-01", "2026-02"]},
    {"place_type": "online", "online_link": "javascript:alert(1)"},
    # Dates at the calendar's edges once raised inside ``datetime`` (issue 12).
    {"date_kind": "month", "incident_month": "0000-01"},
    {"date_kind": "month", "incident_month": "9999-12"},
    {"date_kind": "period", "period_start": "0000-01-01", "period_end": "9999-12-31"},
    # JSON types as the document gives them: no lenient reading of a partner's JSON.
    {"consent_special_categories": "yes"},
    {"consent_special_categories": "true"},
    {"consent_publication": "y"},
    {"role": ["affected"]},
    {"incident_types": "threat"},
    {"incident_types": ["threat", "threat"]},
    {"incident_types": ["threat", None]},
    {"gender": None},
    {"land": " sn"},
    {"incident_date": "01.11.2026"},
    {"incident_date": "2026-11-01T00:00:00"},
    {"incident_month": 5},  # a question that does not apply is still checked
]  # fmt: skip


def test_a_wrong_json_type_is_named_in_the_language_of_the_body(
    api: FlaskClient, partner: str
) -> None:
    body = api_body(consent_special_categories="yes", role=["affected"], language="en",
                    incident_types="threat")  # fmt: skip
    fields = assert_json_error(post(api, partner, body), 422, "invalid")["fields"]
    assert fields == {
        "consent_special_categories": "The answer is true or false (a JSON boolean).",
        "role": "The answer is a text (a JSON string).",
        "incident_types": "The answer is a list of answer codes (a JSON array of strings).",
    }


@pytest.mark.parametrize("changes", HOSTILE_ANSWERS)
def test_hostile_values_are_refused_as_invalid(
    intake_app: Flask, api: FlaskClient, partner: str, changes: dict[str, Any]
) -> None:
    raw = json.dumps({**api_body(), **changes})
    response = post(api, partner, data=raw, content_type="application/json")
    answer = assert_json_error(response, 422, "invalid")
    assert set(answer["fields"]) <= set(current_codebook().questions)
    assert set(answer["fields"]) & set(changes)  # refused for what was changed
    assert stored_reports(intake_app) == 0


@pytest.mark.parametrize(
    ("changes", "stored"),
    [
        ({"description": "Text\x00mit Nullbyte"}, {"description": "Textmit Nullbyte"}),
        ({"description": "\u202eumgedreht"}, {"description": "\u202eumgedreht"}),
        ({"description": "Hälfte\ud800 eines Paars"}, {"description": "Hälfte eines Paars"}),
        (
            {"description": "\x1b[2J\x07Zeile\r\nzwei\x7f\x9b\ufffe"},
            {"description": "[2JZeile\nzwei"},
        ),
        ({"description": "Text", "district": "\udfff\u200b"}, {"description": "Text"}),
        (
            {"description": "🤦\u200d♀\ufe0f می\u200cخواهم", "district": "Nord\u00adost"},
            {"description": "🤦\u200d♀\ufe0f می\u200cخواهم", "district": "Nord\u00adost"},
        ),
    ],
)
def test_hostile_characters_in_text_are_removed_and_the_rest_stored(
    intake_app: Flask,
    api: FlaskClient,
    partner: str,
    changes: dict[str, Any],
    stored: dict[str, str],
) -> None:
    body = {**api_body(perpetrator_description=None), **changes}
    if "district" not in changes:
        body.pop("district")
    raw = json.dumps(body)  # lone surrogates travel as "\ud800" escapes, as JSON allows
    response = post(api, partner, data=raw, content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)
    with intake_app.app_context():
        report = db.session.scalars(select(Report)).one()
        unlocked = keyring.unlock_with_recovery(intake_app.config["TEST_RECOVERY_KEY"])
        assert open_report(report, unlocked).fields == stored


@pytest.mark.parametrize(
    ("raw", "status", "error"),
    [
        ("[" * 100_000 + "]" * 100_000, 400, "bad_request"),
        ("[" * 200_000 + "]" * 200_000, 413, "request_entity_too_large"),
        ("[" * 50_000, 400, "bad_request"),
        ('{"description": ' + "[" * 20_000 + "]" * 20_000 + "}", 400, "bad_request"),
        ('{"description": ' + "9" * 5000 + "}", 400, "bad_request"),
        ('{"description": NaN, "land": Infinity}', 422, "invalid"),
        ('{"\\ud800": 1}', 400, "bad_request"),
        ('{"description": "' + "x" * (MAX_BODY_BYTES + 1) + '"}', 413, "request_entity_too_large"),
    ],
)
def test_hostile_bodies_are_refused(
    intake_app: Flask, api: FlaskClient, partner: str, raw: str, status: int, error: str
) -> None:
    response = post(api, partner, data=raw, content_type="application/json")
    assert_json_error(response, status, error)
    assert stored_reports(intake_app) == 0


def test_a_lone_surrogate_key_is_named_back_safely(api: FlaskClient, partner: str) -> None:
    response = post(api, partner, data='{"\\ud800": 1}', content_type="application/json")
    assert b"\\ud800" in response.data  # escaped, so the answer is valid UTF-8
    assert response.get_json()["unknown_fields"] == ["\ud800"]


# --- Every error is JSON, the rest of the site keeps its pages ---------------------------------


def test_routing_errors_under_the_api_are_json(api: FlaskClient) -> None:
    response = api.get(REPORTS)
    assert_json_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    assert_json_error(api.put(REPORTS, json={}), 405, "method_not_allowed")
    assert_json_error(api.get("/api/v1/reports/1"), 404, "not_found")
    assert_json_error(api.post("/api/v1/statistics"), 405, "method_not_allowed")
    assert_json_error(api.get("/api/v1"), 404, "not_found")
    assert_json_error(api.get("/api/v1/"), 404, "not_found")
    # Outside the API the site still answers with its own page.
    page = api.get("/de/nowhere")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    page = api.get("/api/v2/reports")
    assert page.status_code == 404
    assert page.mimetype == "text/html"


def test_an_unexpected_failure_is_a_json_500_and_stores_nothing(
    intake_app: Flask, api: FlaskClient, partner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake_app.config["PROPAGATE_EXCEPTIONS"] = False

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        # Something half-done in the session first: the failure must not let it be committed.
        half_done = Report(
            receipt_lookup="x" * 64, submitted_on=today(), org_key_id=1, receipt_salt=b"s" * 16
        )
        db.session.add(half_done)
        db.session.flush()
        raise RuntimeError("secret internals /srv/app.py")

    monkeypatch.setattr(app.api.views, "submit_report", fail)
    response = post(api, partner, api_body())
    answer = assert_json_error(response, 500, "internal_server_error")
    assert "secret" not in json.dumps(answer)
    assert stored_reports(intake_app) == 0


def test_too_many_reports_from_one_address_are_limited(
    intake_app: Flask, api: FlaskClient, partner: str
) -> None:
    intake_app.config["REPORT_RATE_LIMIT"] = "2 per hour"
    assert post(api, partner, api_body()).status_code == 201
    assert post(api, None, api_body()).status_code == 401  # guessing tokens counts, too
    assert_json_error(post(api, partner, api_body()), 429, "too_many_requests")
    assert stored_reports(intake_app) == 1
    other = {"REMOTE_ADDR": "192.0.2.9"}
    assert post(api, partner, api_body(), environ_base=other).status_code == 201


def test_the_api_needs_no_csrf_token_but_the_form_still_does(
    intake_app: Flask, api: FlaskClient, partner: str
) -> None:
    assert intake_app.config.get("WTF_CSRF_ENABLED", True)
    assert post(api, partner, api_body()).status_code == 201
    form = api.post("/de/report", data={"role": "affected"})
    assert form.status_code == 400
    assert form.mimetype == "text/html"


def test_the_api_imports_nothing_that_opens() -> None:
    assert app.api.views.__file__ is not None
    assert imported_names(app.api.views.__file__) & OPENING == set()


# --- The OpenAPI document -------------------------------------------------------------------------

# JSON Schema keywords the document's schemas use, checked by ``schema_errors`` below (jsonschema
# is not installed, and no dependency is added for the tests).
VALIDATED = {
    "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items",
    "uniqueItems", "minItems", "minLength", "maxLength", "pattern", "format", "allOf", "if",
    "then", "contains", "not", "propertyNames", "anyOf", "minimum",
}  # fmt: skip
# A question's title is in English; every other configured language is an x-label-<code>.
ANNOTATIONS = {"title", "description", "default", "x-codebook-kind"} | {
    f"x-label-{language.code}" for language in LANGUAGES
}
TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict, "array": list, "string": str, "boolean": bool, "integer": int,
    "null": type(None),
}  # fmt: skip


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _format_errors(value: str, fmt: str, path: str) -> list[str]:
    if fmt == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return [f"{path}: not a date"]
        return [] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else [f"{path}: not a date"]
    if fmt == "email":
        return [] if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) else [f"{path}: not e-mail"]
    if fmt == "uri":
        return [] if re.match(r"[a-z][a-z0-9+.-]*:", value) else [f"{path}: not a URI"]
    raise AssertionError(f"unknown format {fmt}")


def schema_errors(
    value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$"
) -> list[str]:
    """What is wrong with ``value`` under ``schema`` — the subset of JSON Schema 2020-12 in use."""
    schema = _resolve(schema, root)
    errors: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        allowed = expected if isinstance(expected, list) else [expected]
        is_bool = isinstance(value, bool)
        if not any(isinstance(value, TYPES[name]) and (not is_bool or name == "boolean")
                   for name in allowed):  # fmt: skip
            return [f"{path}: not {expected}"]
    if "anyOf" in schema and all(schema_errors(value, sub, root, path) for sub in schema["anyOf"]):
        errors.append(f"{path}: matches none of anyOf")
    if "minimum" in schema and isinstance(value, int) and value < schema["minimum"]:
        errors.append(f"{path}: below {schema['minimum']}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: not one of the codes")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: not {schema['const']!r}")
    if "not" in schema and not schema_errors(value, schema["not"], root, path):
        errors.append(f"{path}: must not be given")
    for sub in schema.get("allOf", []):
        errors += schema_errors(value, sub, root, path)
    if "if" in schema and not schema_errors(value, schema["if"], root, path):
        errors += schema_errors(value, schema.get("then", {}), root, path)
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            errors.append(f"{path}: too long")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: too short")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: does not match {schema['pattern']}")
        if "format" in schema:
            errors += _format_errors(value, schema["format"], path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: too few items")
        if schema.get("uniqueItems") and len(set(map(json.dumps, value))) != len(value):
            errors.append(f"{path}: repeated items")
        for n, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), root, f"{path}[{n}]")
        if "contains" in schema and all(
            schema_errors(item, schema["contains"], root) for item in value
        ):
            errors.append(f"{path}: contains no matching item")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        missing = [key for key in schema.get("required", []) if key not in value]
        errors += [f"{path}: {key} missing" for key in missing]
        for key, item in value.items():
            if "propertyNames" in schema:
                errors += schema_errors(key, schema["propertyNames"], root, f"{path}.{key}")
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unknown key {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += schema_errors(item, schema["additionalProperties"], root, f"{path}.{key}")
    return errors


def keywords(schema: Any) -> set[str]:
    """Every keyword used anywhere in a schema (property names are not keywords)."""
    if isinstance(schema, list):
        return set().union(*map(keywords, schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    found = set(schema)
    for key, value in schema.items():
        if key == "properties":
            found |= set().union(*map(keywords, value.values()))
        elif key not in {"enum", "const", "required", "default"}:
            found |= keywords(value)
    return found


@pytest.fixture
def document(api: FlaskClient) -> dict[str, Any]:
    response = api.get(DOCUMENT)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    loaded = json.loads(response.get_data(as_text=True))
    assert isinstance(loaded, dict)
    return loaded


def test_the_document_is_openapi_3_1_with_both_operations(document: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])
    assert document["info"]["title"]
    assert document["info"]["x-codebook"]["version"] == current_codebook().version
    assert set(document["paths"]) == {REPORTS, DOCUMENT, "/api/v1/statistics"}
    submit = document["paths"][REPORTS]["post"]
    assert submit["security"] == [{"partnerToken": []}]
    assert document["components"]["securitySchemes"]["partnerToken"] == {
        **document["components"]["securitySchemes"]["partnerToken"],
        "type": "http",
        "scheme": "bearer",
    }
    assert {"201", "400", "401", "422"} <= set(submit["responses"])
    assert document["paths"][DOCUMENT]["get"]["security"] == []
    # Every reference points somewhere.
    for match in re.finditer(r'"\$ref": "([^"]+)"', json.dumps(document)):
        assert _resolve({"$ref": match.group(1)}, document)


def test_the_request_schema_is_the_codebook(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["Report"]
    codebook = current_codebook()
    properties = schema["properties"]
    assert set(properties) == set(codebook.questions) | {"language"}
    for question in codebook.questions.values():
        prop = properties[question.id]
        assert prop["x-codebook-kind"] == question.kind
        assert prop["title"] == question.label("en")
        assert prop["x-label-de"] == question.label("de")
        if question.kind in {"single", "select"}:
            assert prop["type"] == "string"
            assert prop["enum"] == list(question.codes)
        elif question.kind == "multi":
            assert prop["type"] == "array"
            assert prop["items"]["enum"] == list(question.codes)
        elif question.kind in {"text", "textarea", "email", "url"}:
            assert prop["type"] == "string"
            assert prop["maxLength"] == question.max_length
        elif question.kind == "date":
            assert prop["format"] == "date"
        elif question.kind == "month":
            assert re.search(prop["pattern"], "2026-03")
            assert not re.search(prop["pattern"], "2026-13")
        elif question.kind in {"consent", "flag"}:
            assert prop["type"] == "boolean"
        else:
            assert question.kind == "images"
            assert prop["not"] == {}
    assert schema["required"] == [
        q.id for q in codebook.questions.values() if q.required and q.show_if is None
    ]
    assert schema["additionalProperties"] is False
    conditional = {q.id for q in codebook.questions.values() if q.required and q.show_if}
    assert {rule["then"]["required"][0] for rule in schema["allOf"]} == conditional
    assert keywords(schema) <= VALIDATED | ANNOTATIONS


def test_a_condition_on_a_several_answers_question_is_a_contains_rule() -> None:
    label = Text(de="Frage", en="Question")
    types = Question(
        "incident_types", "multi", label, required=True,
        answers=(Answer("threat", label), Answer("other", label)),
    )  # fmt: skip
    other = Question(
        "other_type", "text", label, required=True, max_length=20,
        show_if=Condition("incident_types", frozenset({"other"})),
    )  # fmt: skip
    codebook = Codebook("test", "0" * 64, (Section("s", label, None, (types, other)),))
    schema = report_schema(codebook)
    assert schema["required"] == ["incident_types"]
    assert schema_errors({"incident_types": ["threat"]}, schema, {}) == []
    assert schema_errors({"incident_types": ["other", "threat"]}, schema, {}) != []
    body = {"incident_types": ["threat", "other"], "other_type": "Brief"}
    assert schema_errors(body, schema, {}) == []


def test_the_document_is_built_once_per_process(api: FlaskClient) -> None:
    assert openapi_json() is openapi_json()
    assert api.get(DOCUMENT).get_data(as_text=True) == openapi_json()
    assert json.loads(openapi_json()) == build_openapi(current_codebook())


SCHEMA_VALID_BODIES = {
    "the factory's report": api_body(),
    "only what is required": {
        "role": "counselling",
        "date_kind": "month",
        "incident_month": "2026-10",
        "land": "be",
        "place_type": "online",
        "platform": "instagram",
        "incident_types": ["insult_online"],
        "description": "Hasskommentare unter einem Foto.",
        "target": "person",
        "consent_special_categories": True,
    },
    "a period, in English": api_body(
        date_kind="period",
        incident_date=None,
        period_start="2026-01-01",
        period_end="2026-10-31",
        consent_publication=False,
        language="en",
        contact_email="kontakt@example.org",
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", SCHEMA_VALID_BODIES)
def test_a_body_the_schema_accepts_is_accepted(
    document: dict[str, Any], api: FlaskClient, partner: str, name: str
) -> None:
    body = SCHEMA_VALID_BODIES[name]
    schema = document["components"]["schemas"]["Report"]
    assert schema_errors(body, schema, document) == []
    response = post(api, partner, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    receipt = document["components"]["schemas"]["Receipt"]
    assert schema_errors(response.get_json(), receipt, document) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (api_body(description=None), 422),
        (api_body(incident_date=None), 422),  # required because date_kind is exact
        (api_body(incident_types=["threat", "threat", "kidnapping"]), 422),
        (api_body(consent_special_categories=False), 422),
        (api_body(contact_email="x" * 255), 422),
        (api_body(images=[]), 400),
        (api_body(surname="Muster"), 400),
    ],
)
def test_the_schema_refuses_what_the_api_refuses(
    document: dict[str, Any], api: FlaskClient, partner: str, body: dict[str, Any], status: int
) -> None:
    schema = document["components"]["schemas"]["Report"]
    assert schema_errors(body, schema, document) != []
    response = post(api, partner, body)
    assert response.status_code == status
    error_schema = "InvalidAnswers" if status == 422 else "Error"
    components = document["components"]["schemas"]
    assert schema_errors(response.get_json(), components[error_schema], document) == []


def test_error_answers_match_their_schema(document: dict[str, Any], api: FlaskClient) -> None:
    answer = api.post(REPORTS, json=api_body()).get_json()
    assert schema_errors(answer, document["components"]["schemas"]["Error"], document) == []
