"""Coming back to the status page again and again leaves no pile of sessions behind."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import StatusSession
from tests.factories import report_form_data
from tests.functional.conftest import hidden_value, post_report, receipt_code


def _sessions(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(StatusSession)) or 0)


def test_a_browser_keeps_one_status_session_however_often_it_enters_the_code(
    intake_app: Flask,
) -> None:
    client = intake_app.test_client()
    code = receipt_code(post_report(client, report_form_data()))
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    for _ in range(12):
        opened = client.post("/de/report/status", data={"csrf_token": csrf, "code": code})
        assert opened.status_code == 303
    assert _sessions(intake_app) == 1
    assert 'name="code"' not in client.get("/de/report/status").get_data(as_text=True)

    # Idle too long: the next visit ends the session and removes its row.
    with client.session_transaction() as session:
        session["status"] = {**session["status"], "seen": session["status"]["seen"] - 16 * 60}
    assert 'name="code"' in client.get("/de/report/status").get_data(as_text=True)
    assert _sessions(intake_app) == 0

    client.post("/de/report/status", data={"csrf_token": csrf, "code": code})
    assert _sessions(intake_app) == 1
    left = client.post("/de/report/status/leave", data={"csrf_token": csrf})
    assert left.status_code == 303
    assert _sessions(intake_app) == 0


def test_a_wrong_code_leaves_the_browsers_session_as_it_was(intake_app: Flask) -> None:
    client = intake_app.test_client()
    code = receipt_code(post_report(client, report_form_data()))
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    client.post("/de/report/status", data={"csrf_token": csrf, "code": code})
    wrong = client.post(
        "/de/report/status", data={"csrf_token": csrf, "code": "AAAA-AAAA-AAAA-AAAA-AAAA"}
    )
    assert wrong.status_code == 404
    assert _sessions(intake_app) == 1
    assert 'name="code"' not in client.get("/de/report/status").get_data(as_text=True)
