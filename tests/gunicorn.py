"""The service as production runs it: gunicorn with gunicorn.conf.py on a prepared instance."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import flask_migrate

from app import create_app
from app.crypto.keyring import initialise_keys
from app.extensions import db

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def instance_environment(
    instance: Path, env_name: str = "production", **settings: str
) -> dict[str, str]:
    """``MELDEPORTAL_*`` variables of an installation in ``instance`` (SQLite unless a
    ``DATABASE_URL`` is among ``settings``)."""
    return {
        "MELDEPORTAL_ENV": env_name,
        "MELDEPORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "MELDEPORTAL_RECEIPT_SECRET": secrets.token_urlsafe(48),
        "MELDEPORTAL_INSTANCE_PATH": str(instance),
        "MELDEPORTAL_OPERATOR_NAME": "Test e.V.",
        "MELDEPORTAL_OPERATOR_ADDRESS": "Weg 1",
        "MELDEPORTAL_OPERATOR_EMAIL": "a@example.org",
        **{f"MELDEPORTAL_{name}": value for name, value in settings.items()},
    }


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``variables`` in ``os.environ`` for the block (the app reads its settings there)."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def prepare_instance(variables: Mapping[str, str]) -> str:
    """As an operator would: migrate, then `flask keys init`. Returns the recovery key."""
    with environment(variables):
        app = create_app()
        with app.app_context():
            flask_migrate.upgrade()
            recovery = initialise_keys(dt.date.today())
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    return recovery


def get_status(port: int, path: str, timeout: float = 5) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@contextmanager
def gunicorn_serving(
    variables: Mapping[str, str],
    log_path: Path,
    app_module: str = "wsgi:app",
    python_path: Path | None = None,
    **process_env: str,
) -> Iterator[int]:
    """gunicorn with gunicorn.conf.py (one worker unless ``WEB_CONCURRENCY`` is given) on a free
    loopback port until the block ends; yields the port once `/healthz` answers.

    Its standard output and error (access and error log) go to ``log_path``.
    """
    port = free_port()
    env = {**os.environ, **variables, "HOST": "127.0.0.1", "PORT": str(port),
           "WEB_CONCURRENCY": "1", **process_env}  # fmt: skip
    if python_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(python_path), env.get("PYTHONPATH")]))
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", app_module],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    get_status(port, "/healthz")
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.2)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=60)


class Browser:
    """Just enough of a browser: keeps cookies, sends forms, follows no redirect."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        form: Mapping[str, object] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, str]:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, text
        finally:
            connection.close()
