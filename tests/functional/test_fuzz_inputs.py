"""Hypothesis over what people type and send: the report form, the research area and its
downloads, the statistics API's parameters and the public statistics page's ``?year=``.

Values are drawn near the edges on purpose: years 0 and 9999, days the month lacks, digits of
other scripts, control characters, spaces around codes, huge texts. The rule for every one of
them: never a server error, and an error page keeps everything the person typed. The runs are
derandomised (the same cases in CI every time); PostgreSQL gets a shorter run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from app.api.tokens import STATISTICS, create_token
from app.codebook import Question, current_codebook
from app.extensions import db
from app.intake.steps import step_of_question, steps_of
from app.models.user import RESEARCHER
from app.research.statistics import DIMENSIONS, FILTERS, QUERY_PARAMETERS, dimension_codes
from tests.factories import report_form_data
from tests.functional.conftest import kept_answers, shown_step, walk_to_last_step
from tests.functional.test_moderation_access import login
from tests.integration.test_statistics import counted_incident
from tests.staff import make_staff

EXAMPLES = {"sqlite": 80, "postgresql": 15}
# Where dates and months break: year 0, the calendar's end, days months lack, other digits.
EDGE_DATES = [
    "0000-01", "0000-12", "9999-12", "10000-01", "0001-01", "1989-12", "2099-12", "2100-01",
    "0000-01-01", "9999-12-31", "0001-01-01", "1989-12-31", "2026-02-29", "2024-02-29",
    "2026-13-01", "2026-00-10", "31.12.9999", "00.00.0000", "29.02.0000", "1.0000", "12/9999",
    "٢٠٢٦-٠١-٠١", "２０２６-０１", "2026-1", "2026-01-1", " 2026-01 ", "2026-01\n", "-2026-01",
    "+2026-01", "2026-W01", "20260101", "2026-01-01T00:00", "", " ", "x" * 300,
]  # fmt: skip
HOSTILE_TEXTS = [
    "\x00", "\x1b[31m", "\u202eevil", "\ufeff", "a\r\nb", "\r", "<script>alert(1)</script>",
    '"onmouseover="x', "{{ 7*7 }}", "%(name)s", "=cmd|' /C calc'!A0", "x" * 10_001,
    "é" * 60_000, "\U0001f600" * 5000,
]  # fmt: skip
# The months that once made the statistics raise inside ``datetime`` (issue 12).
EDGE_MONTH_QUERIES = [
    {"from": "0000-01"}, {"to": "0000-12"}, {"to": "9999-12"}, {"from": "9999-12"},
    {"from": "2099-12", "to": "2099-12", "period": "month"}, {"from": "1989-12"},
    {"from": " 2026-01 ", "to": "2026-03"}, {"from": "2026-1"}, {"to": "٢٠٢٦-٠١"},
]  # fmt: skip
# Every character but lone surrogates, which no browser can send in UTF-8.
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
# Years where the calendar, the range or the arithmetic end, drawn often; any other sometimes.
EDGE_YEARS = st.sampled_from([0, 1, 1989, 1990, 2099, 2100, 9999])
YEARS = st.one_of(EDGE_YEARS, EDGE_YEARS, st.integers(0, 9999))  # an edge two times in three
MONTHS = st.builds(lambda y, m: f"{y:04d}-{m:02d}", YEARS, st.integers(0, 13))
DAYS = st.one_of(
    st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", YEARS, st.integers(0, 13),
              st.integers(0, 32)),
    st.builds(lambda y, m, d: f"{d}.{m}.{y:04d}", YEARS, st.integers(0, 13), st.integers(0, 32)),
)  # fmt: skip
DATE_TEXT = st.one_of(MONTHS, DAYS, st.sampled_from(EDGE_DATES))


def _engine(app: Flask) -> str:
    return "postgresql" if "postgresql" in str(app.config["DATABASE_URL"]) else "sqlite"


def _run(
    app: Flask,
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    examples: Sequence[Any] = (),
) -> None:
    """Run ``check`` on the ``examples`` (the classes known to have failed, always tried) and
    on drawn values (deterministic, no deadline, a bounded count)."""

    @settings(
        max_examples=EXAMPLES[_engine(app)],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def run(value: Any) -> None:
        check(value)

    for value in examples:
        run = example(value)(run)
    run()


def _edge_text() -> st.SearchStrategy[str]:
    return st.one_of(ANY_TEXT, DATE_TEXT, st.sampled_from(HOSTILE_TEXTS))


# --- The report form ----------------------------------------------------------------------------


def _answer(question: Question) -> st.SearchStrategy[Any]:
    """What a browser (or someone imitating one) may post for a question."""
    codes = st.sampled_from(question.codes) if question.codes else ANY_TEXT
    if question.kind == "multi":
        return st.lists(st.one_of(codes, _edge_text()), max_size=4)
    if question.kind in {"single", "select"}:
        return st.one_of(codes, _edge_text())
    if question.kind in {"consent", "flag"}:
        return st.one_of(st.just("y"), _edge_text())
    if question.kind in {"date", "month"}:
        valid = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(
            lambda day: day.isoformat()[: 7 if question.kind == "month" else 10]
        )
        return st.one_of(valid, DATE_TEXT, _edge_text())
    return _edge_text()


def _form_changes() -> st.SearchStrategy[dict[str, Any]]:
    """A valid report with its dates and a few other answers replaced (None: left out)."""
    questions = [q for q in current_codebook().questions.values() if q.kind != "images"]
    # The kind of date is a valid choice, so that the drawn date is read and not dropped.
    dates: dict[str, st.SearchStrategy[Any]] = {
        q.id: st.one_of(DATE_TEXT, _answer(q), st.none())
        for q in questions
        if q.kind in {"date", "month"}
    }
    dates["date_kind"] = st.sampled_from(current_codebook().question("date_kind").codes)
    others = [q for q in questions if q.id not in dates]
    chosen = st.lists(st.sampled_from(others), max_size=4, unique_by=lambda q: q.id)
    return st.tuples(
        st.fixed_dictionaries(dates),
        chosen.flatmap(
            lambda picked: st.fixed_dictionaries(
                {q.id: st.one_of(st.none(), _answer(q)) for q in picked}
            )
        ),
    ).map(lambda pair: {**pair[0], **pair[1]})


def _typed_text(question: Question) -> bool:
    """Questions whose field shows back what was typed (choices show their own options)."""
    return question.kind in {"text", "textarea", "email", "url", "date", "month"}


def test_the_form_never_fails_and_keeps_what_was_typed(intake_app: Flask) -> None:
    client = intake_app.test_client()
    codebook = current_codebook()
    steps = steps_of(codebook)

    def check(changes: dict[str, Any]) -> None:
        data = {k: v for k, v in report_form_data(**changes).items() if v not in ([], None)}
        # A fresh form each time (a new one-time token): a repeated one would show the receipt.
        page, sending = walk_to_last_step(client, data)
        response = client.post("/de/report", data=sending,
                               content_type="multipart/form-data") if sending else page  # fmt: skip
        assert response.status_code < 500
        if response.status_code == 200:
            assert 'id="receipt-code"' in response.get_data(as_text=True)
            return
        assert response.status_code == 422, response.status_code
        html = response.get_data(as_text=True)
        assert 'role="alert"' in html
        shown = shown_step(response)
        assert shown is not None
        kept = kept_answers(response)
        for question_id, value in data.items():
            asked_on = step_of_question(steps, question_id).number
            if asked_on > shown or not isinstance(value, str) or not value:
                continue
            if codebook.question(question_id).kind not in {"consent", "flag"}:
                assert kept[question_id] == value, question_id  # nothing typed is lost
            if asked_on == shown and _typed_text(codebook.question(question_id)):
                assert str(escape(value)) in html, question_id

    month = {"date_kind": "month", "incident_date": None}
    period = {"date_kind": "period", "incident_date": None}
    examples = [
        {**month, "incident_month": "0000-01"},
        {**month, "incident_month": "01.0000"},
        {**month, "incident_month": "9999-12"},
        {**period, "period_start": "00.00.0000", "period_end": "9999-12-31"},
        {**period, "period_start": "29.02.0000", "period_end": "0000-01-01"},
    ]
    _run(intake_app, _form_changes(), check, examples)


# --- The research area and its downloads --------------------------------------------------------


def _query_value(name: str) -> st.SearchStrategy[str]:
    codebook = current_codebook()
    if name in ("rows", "columns"):
        return st.one_of(st.sampled_from(DIMENSIONS), _edge_text())
    if name in FILTERS or name == "verification":
        codes = list(dimension_codes(name, codebook))
        listed = st.lists(st.sampled_from(codes), min_size=1, max_size=3).map(",".join)
        return st.one_of(listed, _edge_text(), listed.map(lambda text: f" {text},,"))
    if name in ("from", "to"):
        valid = st.dates(dt.date(1985, 1, 1), dt.date(2105, 12, 31)).map(
            lambda d: d.isoformat()[:7]
        )
        return st.one_of(valid, _edge_text())
    if name == "period":
        return st.one_of(st.sampled_from(["year", "quarter", "month"]), _edge_text())
    if name == "types":
        return st.one_of(st.sampled_from(["most_severe", "every"]), _edge_text())
    if name == "format":
        return st.one_of(st.sampled_from(["json", "csv"]), _edge_text())
    if name == "lang":
        return st.one_of(st.sampled_from(["de", "en"]), _edge_text())
    return _edge_text()


def _queries(names: frozenset[str]) -> st.SearchStrategy[dict[str, str]]:
    known = st.fixed_dictionaries({}, optional={name: _query_value(name) for name in sorted(names)})
    unknown = st.dictionaries(st.sampled_from(["colour", "year", "from ", "ROWS"]), ANY_TEXT,
                              max_size=1)  # fmt: skip
    return st.tuples(known, st.one_of(st.just({}), unknown)).map(
        lambda pair: {**pair[1], **pair[0]}
    )


@pytest.fixture
def research_client(intake_app: Flask) -> FlaskClient:
    with intake_app.test_request_context():
        staff = make_staff(RESEARCHER, None)
        for land, count in (("sn", 6), ("th", 2)):
            for _ in range(count):
                counted_incident(coded_land=land, day=dt.date(2026, 4, 2))
        db.session.commit()
    client = intake_app.test_client()
    assert login(client, staff).status_code == 303
    return client


def test_the_research_area_never_fails(intake_app: Flask, research_client: FlaskClient) -> None:
    paths = st.sampled_from(["/research/", "/research/table.csv", "/research/table.json"])

    def check(drawn: tuple[str, dict[str, str]]) -> None:
        path, query = drawn
        response = research_client.get(path, query_string={"rows": "land", **query})
        assert response.status_code in (200, 400), (response.status_code, query)
        if response.status_code == 400 and path == "/research/":
            html = response.get_data(as_text=True)
            for name in ("from", "to"):  # the typed months stay in their fields
                if name in query:
                    assert f'name="{name}" value="{escape(query[name])}"' in html
        elif response.status_code == 400:
            assert response.get_json()["parameter"] in QUERY_PARAMETERS

    examples = [(path, query) for path in ("/research/", "/research/table.csv")
                for query in EDGE_MONTH_QUERIES]  # fmt: skip
    _run(intake_app, st.tuples(paths, _queries(QUERY_PARAMETERS)), check, examples)


# --- The statistics API's parameters ------------------------------------------------------------


def test_the_statistics_api_never_fails(intake_app: Flask) -> None:
    with intake_app.app_context():
        _row, token = create_token("Fuzzing", [STATISTICS], today=dt.datetime.now(dt.UTC).date())
        for _ in range(6):
            counted_incident(coded_land="be", day=dt.date(2025, 6, 1))
        db.session.commit()
    client = intake_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def check(query: dict[str, str]) -> None:
        response = client.get("/api/v1/statistics", query_string=query, headers=headers)
        assert response.status_code in (200, 400), (response.status_code, query)
        if response.status_code == 400:
            body = response.get_json()
            assert body["error"] == "bad_request"
            assert body.get("parameter") or body.get("unknown_fields") or body["message"]
        elif query.get("format") != "csv":
            assert response.mimetype == "application/json"

    _run(intake_app, _queries(QUERY_PARAMETERS | {"format", "lang"}), check, EDGE_MONTH_QUERIES)


# --- The public statistics page -----------------------------------------------------------------


def test_the_public_year_never_fails(db_app: Flask) -> None:
    client = db_app.test_client()
    years = st.one_of(st.integers(1980, 2110).map(str), _edge_text())

    def check(year: str) -> None:
        response = client.get("/de/statistics", query_string={"year": year})
        assert response.status_code in (200, 400, 404), (response.status_code, year)
        if response.status_code != 200:
            assert 'role="alert"' in response.get_data(as_text=True)

    _run(db_app, years, check, ["0", "0000", "9999", "1989", "2100", "-1", "٢٠٢٦", "2026 "])
