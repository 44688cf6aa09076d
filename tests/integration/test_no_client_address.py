"""No log line of the app, the development server or gunicorn carries a client address."""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask, request
from werkzeug.serving import make_server

from app import create_app
from app.devserver import AddressFreeRequestHandler
from app.extensions import db, limiter
from app.reporter_logs import WITHHELD, withhold_on
from tests.gunicorn import gunicorn_serving, instance_environment, prepare_instance
from tests.pages import page_paths

CLIENT_ADDRESS = "203.0.113.77"
FORWARDED_ADDRESS = "198.51.100.23"
# Loopback source address of the test's own client, distinct from the servers' 127.0.0.1.
LOOPBACK_CLIENT = "127.0.0.5"
OTHER_CLIENT = "127.0.0.6"


def test_app_logs_no_address_on_pages_and_errors(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/de/probe/crash")
    def crash() -> str:
        raise RuntimeError("boom")

    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    environ = {"REMOTE_ADDR": CLIENT_ADDRESS}
    headers = {"X-Forwarded-For": FORWARDED_ADDRESS, "X-Real-IP": FORWARDED_ADDRESS}
    for path in [*page_paths(), "/", "/healthz", "/de/missing", "/de/probe/crash"]:
        client.get(path, environ_base=environ, headers=headers)
    client.post("/de/network", environ_base=environ, headers=headers)
    assert "RuntimeError" in caplog.text
    assert CLIENT_ADDRESS not in caplog.text
    assert FORWARDED_ADDRESS not in caplog.text


def _request_from(port: int, path: str, source: str = LOOPBACK_CLIENT) -> int:
    return _answer_to(port, path, source)[0]


def _answer_to(port: int, path: str, source: str = LOOPBACK_CLIENT) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path + "?q=secret-query")
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def dev_server(app: Flask) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, request_handler=AddressFreeRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_development_server_logs_requests_without_address(
    dev_server: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert _request_from(dev_server, "/de/network") == 200
    assert _request_from(dev_server, "/de/missing") == 404
    with socket.create_connection(("127.0.0.1", dev_server), timeout=10) as raw:
        raw.sendall(b"NONSENSE \x01\x02\r\n\r\n")
        raw.recv(1024)
    lines = [record.getMessage() for record in caplog.records]
    assert "GET /de/network 200" in lines
    assert "GET /de/missing 404" in lines
    assert LOOPBACK_CLIENT not in caplog.text
    assert "secret-query" not in caplog.text


def test_each_client_of_the_development_server_has_its_own_rate_limit(
    app: Flask, dev_server: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The address reaches the app (and the limiter's key), never the log."""
    caplog.set_level(logging.DEBUG)

    @app.get("/probe/address")
    @limiter.limit("2 per hour")
    def address() -> str:
        return request.remote_addr or ""

    try:
        answers = [_answer_to(dev_server, "/probe/address") for _ in range(3)]
        other = _answer_to(dev_server, "/probe/address", OTHER_CLIENT)
    finally:
        limiter.reset()
    assert answers[:2] == [(200, LOOPBACK_CLIENT)] * 2
    assert answers[2][0] == 429
    assert other == (200, OTHER_CLIENT)
    lines = [record.getMessage() for record in caplog.records]
    assert lines.count("GET /probe/address 200") == 3
    assert "GET /probe/address 429" in lines
    assert LOOPBACK_CLIENT not in caplog.text
    assert OTHER_CLIENT not in caplog.text


def test_development_server_writes_nothing_for_a_reporters_requests(
    app: Flask, dev_server: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    withhold_on([caplog.handler])  # as on the handler `make run` configures before create_app

    @app.get("/de/report/crash")
    def reporter_crash() -> str:
        raise RuntimeError("reporter crash")

    @app.get("/de/probe/crash")
    def other_crash() -> str:
        raise RuntimeError("other crash")

    for path in ("/de/report", "/de/%72eport/status", "/static/css/site.css", "/favicon.ico"):
        assert _request_from(dev_server, path) in {200, 404}
    assert _request_from(dev_server, "/de/report/crash") == 500
    assert _request_from(dev_server, "/de/probe/crash") == 500
    assert _request_from(dev_server, "/de/network") == 200
    for target in (b"/de/report/status", b"/de/network"):
        with socket.create_connection(("127.0.0.1", dev_server), timeout=10) as raw:
            raw.sendall(b"GET " + target + b" HTTP/9.9\r\n\r\n")
            raw.recv(1024)
    lines = [record.getMessage() for record in caplog.records]
    assert "GET /de/network 200" in lines
    assert "other crash" in caplog.text  # Werkzeug's "Error on request" with its traceback
    assert any("/de/network" in line and "505" in line for line in lines)
    assert "reporter crash" not in caplog.text
    for line in lines:
        assert not re.search("/de/report|/de/%72eport|/static/|favicon", line), line
    WITHHELD.take_days_before(dt.date.max)


@pytest.mark.serial
def test_gunicorn_access_log_has_no_address(tmp_path: Path) -> None:
    production = instance_environment(tmp_path / "instance")
    prepare_instance(production)
    log_path = tmp_path / "gunicorn.log"
    with gunicorn_serving(production, log_path) as port:
        assert _request_from(port, "/de/network") == 200
        assert _request_from(port, "/healthz") == 200
        with socket.create_connection(
            ("127.0.0.1", port), timeout=10, source_address=(LOOPBACK_CLIENT, 0)
        ) as raw:
            raw.sendall(b"NONSENSE \x01\x02\r\n\r\n")  # gunicorn names the sender of this
            raw.recv(1024)
    output = log_path.read_text()
    assert 'GET /de/network HTTP/1.1" 200' in output
    assert "Invalid request: " in output
    assert LOOPBACK_CLIENT not in output
    assert "secret-query" not in output


def test_make_run_starts_the_address_free_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app import devserver

    started: dict[str, object] = {}

    def fake_run_simple(host: str, port: int, app: Flask, **options: object) -> None:
        started.update(host=host, port=port, app=app, **options)

    monkeypatch.setattr(devserver, "run_simple", fake_run_simple)
    monkeypatch.setenv("MELDEPORTAL_ENV", "development")
    monkeypatch.setenv("MELDEPORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PORT", "5123")
    with create_app().app_context():  # `make run` upgrades the database first
        flask_migrate.upgrade()
        db.engine.dispose()
    devserver.main([])
    banner = capsys.readouterr().out
    assert "DEVELOPMENT ONLY" in banner
    assert re.search(r"(\w{4}-){12}\w{4}", banner)  # the development recovery key, once
    assert (tmp_path / "development.env").exists()  # for the `flask` commands beside it
    assert (tmp_path / "development-recovery-key").exists()
    devserver.main([])
    assert "DEVELOPMENT ONLY" not in capsys.readouterr().out  # the key exists now
    assert started["host"] == "127.0.0.1"
    assert started["port"] == 5123
    assert started["request_handler"] is AddressFreeRequestHandler
    assert logging.getLogger("werkzeug").level == logging.WARNING
