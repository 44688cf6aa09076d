"""No log line of the app, the development server or gunicorn carries a client address."""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.crypto.keyring import initialise_keys
from app.devserver import AddressFreeRequestHandler
from app.extensions import db
from tests.pages import page_paths

PROJECT = Path(__file__).resolve().parents[2]
CLIENT_ADDRESS = "203.0.113.77"
FORWARDED_ADDRESS = "198.51.100.23"
# Loopback source address of the test's own client, distinct from the servers' 127.0.0.1.
LOOPBACK_CLIENT = "127.0.0.5"


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


def _request_from(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(LOOPBACK_CLIENT, 0)
    )
    try:
        conn.request("GET", path + "?q=secret-query")
        response = conn.getresponse()
        response.read()
        return response.status
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_environment(instance: Path) -> dict[str, str]:
    return {
        "MELDEPORTAL_ENV": "production",
        "MELDEPORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "MELDEPORTAL_RECEIPT_SECRET": secrets.token_urlsafe(48),
        "MELDEPORTAL_INSTANCE_PATH": str(instance),
        "MELDEPORTAL_OPERATOR_NAME": "Test e.V.",
        "MELDEPORTAL_OPERATOR_ADDRESS": "Weg 1",
        "MELDEPORTAL_OPERATOR_EMAIL": "a@example.org",
    }


def test_gunicorn_access_log_has_no_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    production = production_environment(tmp_path / "instance")
    for name, value in production.items():
        monkeypatch.setenv(name, value)
    prepared = create_app()  # as an operator would: migrate, then `flask keys init`
    with prepared.app_context():
        flask_migrate.upgrade()
        initialise_keys(dt.date.today())
        db.session.commit()
        db.engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        **production,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    status = _request_from(port, "/de/network")
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.2)
            assert status == 200
            assert _request_from(port, "/healthz") == 200
        finally:
            process.terminate()
            process.wait(timeout=30)
    output = log_path.read_text()
    assert 'GET /de/network HTTP/1.1" 200' in output
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
    devserver.main([])
    assert "DEVELOPMENT ONLY" not in capsys.readouterr().out  # the key exists now
    assert started["host"] == "127.0.0.1"
    assert started["port"] == 5123
    assert started["request_handler"] is AddressFreeRequestHandler
    assert logging.getLogger("werkzeug").level == logging.WARNING
