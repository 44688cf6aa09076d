"""When a public form cannot be accepted as sent — an expired or missing security token, an
ended status view, a body that is no form, the same form sent ten times at once — the person
gets a clear 4xx page that keeps what they typed, and the log gets one short line."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import Incident, Message, Report, StatusSession
from tests.factories import report_form_data
from tests.functional.conftest import (
    hidden_value,
    kept_answers,
    open_form,
    post_report,
    receipt_code,
    walk_to_last_step,
    walk_to_step,
)

STATUS_PATHS = ["/de/report/status/message", "/de/report/status/evidence",
                "/de/report/status/delete", "/de/report/status/leave"]  # fmt: skip


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def report_and_open_status(app: Flask) -> tuple[FlaskClient, str]:
    """A stored report, and a browser with its status view open."""
    client = app.test_client()
    code = receipt_code(post_report(client, report_form_data()))
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    assert (
        client.post("/de/report/status", data={"csrf_token": csrf, "code": code}).status_code == 303
    )
    return client, code


@pytest.mark.parametrize(
    "path",
    ["/de/report", "/de/report/status", "/de/report/receipt", *STATUS_PATHS],
)
def test_every_public_post_without_a_token_gets_a_short_answer(
    intake_app: Flask, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The reproducer: each of these recursed until RecursionError (a 500 and ~200 KB of log)."""
    caplog.set_level(logging.DEBUG)
    response = intake_app.test_client().post(path, data={"code": "x", "text": "Meine Nachricht"})
    if path.endswith("/leave"):
        assert response.status_code == 303  # leaving the status view is always safe: done
    else:
        assert 400 <= response.status_code < 500, path
    assert "Traceback" not in caplog.text
    assert "RecursionError" not in caplog.text
    lines = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(lines) <= 1
    assert all(len(record.getMessage()) < 200 for record in lines)
    assert all(path not in record.getMessage() for record in caplog.records)


def test_the_report_form_keeps_what_it_can_when_the_session_expired(intake_app: Flask) -> None:
    """The answers of earlier steps are bound to the browser's session: once it is gone they
    cannot be taken over (they could be another person's), and the page says so; what the
    page itself sent is kept."""
    client = intake_app.test_client()
    description = "Was ich lange geschrieben habe"
    _page, sending = walk_to_step(client, report_form_data(description=description), 3)
    with client.session_transaction() as session:
        session.clear()  # the browser was closed, or the session ran out
    response = client.post("/de/report", data=sending, content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert description in html
    assert "Angaben aus den anderen Schritten" in html
    assert kept_answers(response)["description"] == description
    assert "role" not in kept_answers(response)
    assert count(intake_app, Report) == 0


def test_the_report_form_keeps_everything_when_only_the_token_expired(intake_app: Flask) -> None:
    client = intake_app.test_client()
    description = "Was ich lange geschrieben habe"
    response = post_report(client, report_form_data(description=description),
                           tokens={"csrf_token": "abgelaufen"})  # fmt: skip
    assert response.status_code == 400
    assert "Ihre Angaben sind noch da" in response.get_data(as_text=True)
    assert kept_answers(response)["description"] == description
    assert kept_answers(response)["role"] == "affected"
    assert count(intake_app, Report) == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/json", '{"description": "x"}'), ("text/plain", "description=x"),
     ("application/octet-stream", "\x00\x01")],
)  # fmt: skip
def test_a_body_that_is_no_form_is_not_told_its_answers_are_kept(
    intake_app: Flask, content_type: str, body: str
) -> None:
    client = intake_app.test_client()
    csrf = open_form(client)["csrf_token"]
    response = client.post(
        "/de/report", data=body, content_type=content_type, headers={"X-CSRFToken": csrf}
    )
    assert response.status_code == 415
    assert "noch da" not in response.get_data(as_text=True)
    without_token = client.post("/de/report", data=body, content_type=content_type)
    assert without_token.status_code == 415


def test_an_empty_form_is_not_told_its_answers_are_kept(intake_app: Flask) -> None:
    client = intake_app.test_client()
    for response in (client.post("/de/report", data={"form_token": "kaputt"}),
                     client.post("/de/report")):  # fmt: skip
        assert response.status_code == 400
        assert "noch da" not in response.get_data(as_text=True)


def test_head_is_answered_like_get_on_every_page(intake_app: Flask) -> None:
    """The reproducer: HEAD /de/report answered 400 (the view took every non-GET for a POST)."""
    client = intake_app.test_client()
    samples: dict[str, Any] = {"lang": "de", "token": "keine-einladung",
                               "filename": "css/site.css"}  # fmt: skip
    checked = 0
    for rule in intake_app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or set(rule.arguments) - set(samples):
            continue
        with intake_app.test_request_context():
            path = url_for(rule.endpoint, **{name: samples[name] for name in rule.arguments})
        with client.head(path) as head, client.get(path) as get:
            assert head.status_code == get.status_code, path
        checked += 1
    assert checked > 20


def test_a_message_survives_the_end_of_the_status_view(intake_app: Flask) -> None:
    client, code = report_and_open_status(intake_app)
    page = client.get("/de/report/status").get_data(as_text=True)
    csrf = hidden_value(page, "csrf_token")
    with intake_app.app_context():  # the person took longer than the view lives
        db.session.execute(delete(StatusSession))
        db.session.commit()
    text = "Eine lange Antwort, über die ich nachgedacht habe"
    lost = client.post("/de/report/status/message",
                       data={"csrf_token": csrf, "text": text, "kind": "addition"})  # fmt: skip
    assert lost.status_code == 200
    html = lost.get_data(as_text=True)
    assert text in html
    assert 'name="pending_kind" value="addition"' in html
    # With the code again, the text is back in the message box, not yet sent.
    back = client.post("/de/report/status", data={"csrf_token": hidden_value(html, "csrf_token"),
                                                  "code": code, "pending_text": text,
                                                  "pending_kind": "addition"})  # fmt: skip
    assert back.status_code == 200
    assert text in back.get_data(as_text=True)
    assert count(intake_app, Message) == 0
    sent = client.post("/de/report/status/message", data={
        "csrf_token": hidden_value(back.get_data(as_text=True), "csrf_token"), "text": text,
        "kind": "addition"})  # fmt: skip
    assert sent.status_code == 303
    assert count(intake_app, Message) == 1


def test_a_message_with_an_expired_token_comes_back_with_its_text(intake_app: Flask) -> None:
    client, _code = report_and_open_status(intake_app)
    text = "Noch eine Ergänzung"
    response = client.post("/de/report/status/message", data={"csrf_token": "abgelaufen",
                                                               "text": text})  # fmt: skip
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert text in html
    assert "noch einmal" in html
    assert count(intake_app, Message) == 0


def test_a_refused_message_says_why_and_keeps_its_text(intake_app: Flask) -> None:
    """The mailbox's text rules (``app.mailbox``), in the status page's own words."""
    client, _code = report_and_open_status(intake_app)
    long_text = "Sehr lang " * 501  # 5,009 characters, 5,010 typed
    refusals = [
        ("/de/report/status/message", "\u200b \r\n", "Bitte schreiben Sie eine Nachricht."),
        ("/en/report/status/message", "   ", "Please write a message."),
        ("/de/report/status/message", long_text, "Die Nachricht ist zu lang (höchstens 5000"),
    ]
    for path, text, words in refusals:
        csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
        response = client.post(path, data={"csrf_token": csrf, "text": text, "kind": "addition"})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert words in html
        assert 'aria-invalid="true"' in html
        if text.strip():
            assert text.strip() in html
    assert count(intake_app, Message) == 0


def test_a_wrong_code_keeps_what_was_typed(intake_app: Flask) -> None:
    client = intake_app.test_client()
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    response = client.post("/de/report/status", data={"csrf_token": csrf, "code": "ABCD-EFGH"})
    assert response.status_code == 404
    assert 'value="ABCD-EFGH"' in response.get_data(as_text=True)


def test_the_receipt_confirmation_with_an_expired_token_shows_the_receipt_again(
    intake_app: Flask,
) -> None:
    client = intake_app.test_client()
    receipt = post_report(client, report_form_data())
    code = receipt_code(receipt)
    form_token = hidden_value(receipt.get_data(as_text=True), "form_token")
    response = client.post("/de/report/receipt", data={"form_token": form_token, "kept": "y"})
    assert response.status_code == 400
    assert receipt_code(response) == code


def _send(app: Flask, cookie: str, data: dict[str, Any]) -> tuple[int, str]:
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.post("/de/report", data=data, content_type="multipart/form-data")
    return response.status_code, receipt_code(response) if response.status_code == 200 else ""


def test_the_same_form_sent_ten_times_at_once_is_stored_once_and_answered_ten_times(
    intake_app: Flask,
) -> None:
    """The reproducer: 27 of 50 answers were 500 (IntegrityError on report.receipt_lookup)."""
    client = intake_app.test_client()
    _page, data = walk_to_last_step(client, report_form_data())
    cookie = client.get_cookie("session")
    assert cookie is not None
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: _send(intake_app, cookie.value, data), range(10)))
    assert [status for status, _ in answers] == [200] * 10
    assert len({code for _, code in answers}) == 1
    assert count(intake_app, Report) == 1
    assert count(intake_app, Incident) == 1
