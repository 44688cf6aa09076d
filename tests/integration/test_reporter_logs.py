"""No log line dates a reporter's request: not gunicorn's, not the app's, not a library's.

The gunicorn tests here run its logger class in this process; test_no_client_address.py and
this module's last test run the real server.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from gunicorn.config import Config

from app import reporter_logs
from app.accesslog import PrivateLogger
from app.codebook import current_codebook
from app.extensions import limiter
from app.intake import followup
from app.intake.steps import steps_of
from app.reporter_logs import WITHHELD, is_reporter_path, withhold_on, write_withheld_counts
from tests.factories import report_form_data
from tests.functional.conftest import step_answers
from tests.gunicorn import Browser, gunicorn_serving, instance_environment, prepare_instance

REPORTER_PATHS = [
    "/de/report",
    "/en/report/receipt",
    "/de/report/thanks",
    "/de/report/status",
    "/en/report/status/message",
    "/de/report/status/evidence",
    "/de/report/status/delete",
    "/de/report/status/leave",
    "/de/report/",
    "/de//report",
    "//de/report",
    "/de/./report",
    "/de/x/../report",
    "/DE/Report/Status",
    "/xx/report",
    "/report",
    "/api/v1/reports",
    "/api/v1/reports/",
    "/api/v2/reports",
    "/static/css/site.css",
    "/static/js/report-form.js",
    "/favicon.ico",
]
OTHER_PATHS = [
    "/",
    "",
    "/de/",
    "/de/network",
    "/de/about-reports",
    "/de/statistics",
    "/healthz",
    "/moderation/queue",
    "/moderation/cases/1/message",
    "/research/",
    "/api/v1/statistics",
    "/api/v1/openapi.json",
]


@pytest.mark.parametrize("path", REPORTER_PATHS)
def test_reporter_paths_are_recognised(path: str) -> None:
    assert is_reporter_path(path)


@pytest.mark.parametrize("path", OTHER_PATHS)
def test_other_paths_are_not(path: str) -> None:
    assert not is_reporter_path(path)


def test_every_route_a_reporter_uses_is_a_reporter_path(app: Flask) -> None:
    """Held against the app's own routes, so a new reporter page cannot be forgotten."""
    reporter_endpoints = {"static", "api.post_report"}
    for rule in app.url_map.iter_rules():
        values = {name: "1" for name in rule.arguments} | {"lang": "de", "file_format": "csv"}
        path = rule.build(values, append_unknown=False)
        assert path is not None
        url = path[1]
        if rule.endpoint.startswith("intake.") or rule.endpoint in reporter_endpoints:
            assert is_reporter_path(url), url
        else:
            assert not is_reporter_path(url), url


@pytest.fixture
def withheld_here(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog's handler gets the filter, as every configured handler does; counts start at 0."""
    caplog.set_level(logging.DEBUG)
    withhold_on([caplog.handler])
    WITHHELD.take_days_before(dt.date.max)
    yield caplog
    WITHHELD.take_days_before(dt.date.max)


def _withheld() -> dict[tuple[int, str, str], int]:
    """Every count so far (all days), taken: (level, logger, exception class) -> number."""
    total: Counter[tuple[int, str, str]] = Counter()
    for counts in WITHHELD.take_days_before(dt.date.max).values():
        total.update(counts)
    return dict(total)


PROBE_COUNTS = {
    (logging.WARNING, "meldeportal.mail", ""): 1,
    (logging.ERROR, "some.library", ""): 1,
    (logging.INFO, "flask-limiter", ""): 1,
}


def _probe(app: Flask, path: str) -> None:
    def probe() -> str:
        logging.getLogger("meldeportal.mail").warning("Notification not sent: 1 of 1 refused")
        logging.getLogger("some.library").error("something failed at %s", path)
        logging.getLogger("flask-limiter").info("ratelimit exceeded at endpoint: x")
        return "probed"

    app.add_url_rule(path, endpoint=f"probe{path.replace('/', '_')}", view_func=probe)


def test_records_of_a_reporters_request_are_withheld_and_counted(
    app: Flask, withheld_here: pytest.LogCaptureFixture
) -> None:
    _probe(app, "/de/report/probe")
    _probe(app, "/de/probe")
    client = app.test_client()
    assert client.get("/de/report/probe").status_code == 200
    assert withheld_here.records == []
    assert _withheld() == PROBE_COUNTS
    assert client.get("/de/probe").status_code == 200  # the control: the same lines appear
    assert "something failed at /de/probe" in withheld_here.text
    assert "Notification not sent" in withheld_here.text


def test_a_crash_on_a_reporter_path_leaves_only_a_count(
    app: Flask, withheld_here: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(followup, "open_status", broken)

    @app.get("/de/probe/crash")
    def crash() -> str:
        raise RuntimeError("boom")

    client = app.test_client()
    html = client.get("/de/report/status").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert csrf
    response = client.post("/de/report/status", data={"csrf_token": csrf[1], "code": "x"})
    assert response.status_code == 500
    assert withheld_here.records == []
    assert _withheld() == {(logging.ERROR, "app", "RuntimeError"): 1}
    assert client.get("/de/probe/crash").status_code == 500
    assert "Exception on /de/probe/crash [GET]" in withheld_here.text


def test_a_breach_of_the_rate_limit_and_a_csrf_failure_leave_no_line(
    app: Flask, withheld_here: pytest.LogCaptureFixture
) -> None:
    app.config["STATUS_RATE_LIMIT"] = "1 per hour"
    client = app.test_client()
    html = client.get("/de/report/status").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert csrf
    limited = [
        client.post("/de/report/status", data={"csrf_token": csrf[1], "code": "x"}).status_code
        for _ in range(2)
    ]
    assert limited == [404, 429]
    assert client.post("/de/report", data={}).status_code == 400  # no CSRF token
    assert withheld_here.records == []
    counts = _withheld()
    assert counts[(logging.INFO, "flask-limiter", "")] == 1  # the breach
    assert counts[(logging.INFO, "flask_wtf.csrf", "")] == 1  # the refusal
    limiter.reset()


def test_each_finished_days_counts_are_written_once_by_a_request_not_a_reporters(
    app: Flask, withheld_here: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _probe(app, "/de/report/probe")
    client = app.test_client()
    client.get("/de/report/probe")
    client.get("/de/report/probe")
    today = dt.datetime.now(dt.UTC).date()
    monkeypatch.setattr(reporter_logs, "_utc_today", lambda: today + dt.timedelta(days=1))
    client.get("/de/report/probe")  # a reporter's request on the next day writes nothing
    assert withheld_here.records == []
    client.get("/healthz")
    (line,) = [r.getMessage() for r in withheld_here.records if r.name == "meldeportal.logs"]
    assert line == (
        f"Withheld 6 log records of reporter requests on {today.isoformat()}:"
        " 2 ERROR some.library, 2 WARNING meldeportal.mail, 2 INFO flask-limiter"
    )
    assert [r.levelno for r in withheld_here.records if r.name == "meldeportal.logs"] == [
        logging.WARNING
    ]
    client.get("/healthz")
    write_withheld_counts(today + dt.timedelta(days=1))
    assert len([r for r in withheld_here.records if r.name == "meldeportal.logs"]) == 1
    assert _withheld() == PROBE_COUNTS


# --- gunicorn's logger class, in this process ------------------------------------------------


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def gunicorn_logger() -> Iterator[tuple[PrivateLogger, Collect]]:
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", '%(t)s "%(m)s %(U)s %(H)s" %(s)s')
    logger = PrivateLogger(config)
    collect = Collect()
    collect.setFormatter(logging.Formatter("%(message)s"))
    for log in (logger.access_log, logger.error_log):
        for handler in list(log.handlers):
            log.removeHandler(handler)
        log.addHandler(collect)
    WITHHELD.take_days_before(dt.date.max)
    yield logger, collect
    for log in (logger.access_log, logger.error_log):
        log.removeHandler(collect)
    WITHHELD.take_days_before(dt.date.max)


def _access(logger: PrivateLogger, path: str | None, uri: str) -> None:
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": uri, "SERVER_PROTOCOL": "HTTP/1.1"}
    if path is not None:
        environ["PATH_INFO"] = path
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    request = SimpleNamespace(headers=[], uri=uri, path=uri.split("?")[0])
    logger.access(response, request, environ, dt.timedelta(milliseconds=3))


def test_gunicorn_writes_no_access_line_for_a_reporters_request(
    gunicorn_logger: tuple[PrivateLogger, Collect],
) -> None:
    logger, collect = gunicorn_logger
    _access(logger, "/de/report", "/de/report")
    _access(logger, "/de/report/status", "/de/%72eport/status?x=1")
    _access(logger, None, "/api/v1/%72eports")  # refused before its environment was made
    _access(logger, "/static/css/site.css", "/static/css/site.css")
    assert collect.lines == []
    _access(logger, "/healthz", "/healthz?token=secret")
    (line,) = collect.lines
    assert re.fullmatch(r'\[[^]]+\] "POST /healthz HTTP/1.1" 200', line)
    assert _withheld() == {}  # requests are not counted, only withheld errors


def test_gunicorn_error_lines_name_no_client_and_no_reporters_request(
    gunicorn_logger: tuple[PrivateLogger, Collect],
) -> None:
    logger, collect = gunicorn_logger
    logger.warning("Invalid request from ip=203.0.113.7: Invalid HTTP request line: 'GET /de/x'")
    logger.warning("Invalid request from ip=2001:db8::7: Proxy request from '2001:db8::7' no")
    logger.warning("Invalid request from ip=203.0.113.7: Invalid PROXY line: b'PROXY 1.2.3.4'")
    assert collect.lines == [
        "Invalid request: Invalid HTTP request line: '…'",
        "Invalid request: Proxy request from '…' no",
        "Invalid request: Invalid PROXY line: '…'",
    ]
    collect.lines.clear()
    try:
        raise ValueError("failed")
    except ValueError:
        logger.exception("Error handling request %s %s", "POST", "/de/report?code=ABCD")
        logger.exception("Error handling request %s", "/api/v1/reports")
        logger.exception("Error handling request %s", "/healthz?token=secret")
    assert [line.splitlines()[0] for line in collect.lines] == ["Error handling request /healthz"]
    assert _withheld() == {(logging.ERROR, "gunicorn.error", "ValueError"): 2}


# --- the real gunicorn -----------------------------------------------------------------------

PROBE_MODULE = """
from wsgi import app

app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: Flask logs the exception


@app.get("/de/report/crash")
def reporter_crash():
    raise RuntimeError("reporter crash")


@app.get("/de/probe/crash")
def other_crash():
    raise RuntimeError("other crash")
"""


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert found, name
    return found[1]


@pytest.mark.serial
def test_gunicorn_logs_nothing_of_a_report_and_a_status_visit(tmp_path: Path) -> None:
    environment = instance_environment(tmp_path / "instance", "testing")
    prepare_instance(environment)
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "probe_wsgi.py").write_text(PROBE_MODULE)
    log_path = tmp_path / "gunicorn.log"
    with gunicorn_serving(environment, log_path, "probe_wsgi:app", tmp_path / "probe") as port:
        person = Browser(port)
        status, html = person.request("GET", "/de/report")
        assert status == 200
        for step in steps_of(current_codebook()):  # each step, then sending
            fields = {name: _hidden(html, name) for name in ("csrf_token", "form_state")}
            answers = step_answers(report_form_data(), step)
            action = "send" if step.final else "next"
            status, html = person.request(
                "POST", "/de/report", form={**fields, **answers, "action": action}
            )
            assert status == 200, html[:500]
        shown = re.search(r'id="receipt-code"[^>]*>(.*?)</strong>', html)
        assert shown
        code = re.sub(r"<[^>]*>", "", shown.group(1)).strip()  # its groups are elements
        tokens = {name: _hidden(html, name) for name in ("csrf_token", "form_token")}
        kept = {**tokens, "kept": "y"}
        assert person.request("POST", "/de/report/receipt", form=kept)[0] == 303
        assert person.request("GET", "/de/report/thanks")[0] == 200
        assert person.request("GET", "/static/css/site.css")[0] == 200
        status, html = person.request("GET", "/de/report/status")
        csrf = {"csrf_token": _hidden(html, "csrf_token")}
        login = {**csrf, "code": code}
        assert person.request("POST", "/de/report/status", form=login)[0] == 303
        assert person.request("GET", "/de/report/status?done=sent")[0] == 200
        message = {**csrf, "text": "Noch etwas", "kind": "message"}
        assert person.request("POST", "/de/report/status/message", form=message)[0] == 303
        assert person.request("POST", "/de/report/status/leave", form=csrf)[0] == 303
        partner = {"Content-Type": "application/json"}
        assert person.request("POST", "/api/v1/reports", headers=partner, body=b"{}")[0] == 401
        assert person.request("GET", "/de/report/crash")[0] == 500
        assert person.request("GET", "/de/probe/crash")[0] == 500
        assert person.request("GET", "/healthz")[0] == 200
        assert person.request("GET", "/de/network")[0] == 200
    output = log_path.read_text()
    lines = output.splitlines()
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in lines)
    assert any('"GET /de/network HTTP/1.1" 200' in line for line in lines)
    assert "Exception on /de/probe/crash [GET]" in output  # errors elsewhere are still logged
    assert "other crash" in output
    assert "reporter crash" not in output
    assert code not in output
    for line in lines:
        assert not re.search(r"/de/report|/api/v1/reports|/static/", line), line
