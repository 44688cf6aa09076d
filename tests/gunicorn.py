"""The service as production runs it: gunicorn with gunicorn.conf.py on a prepared instance."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import flask_migrate

from app import create_app
from app.crypto.keyring import initialise_keys
from app.extensions import db

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_environment(instance: Path, **settings: str) -> dict[str, str]:
    """``MELDEPORTAL_*`` variables of a production installation in ``instance`` (SQLite)."""
    return {
        "MELDEPORTAL_ENV": "production",
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


def get_status(base_url: str, path: str, timeout: float = 5) -> int:
    with urllib.request.urlopen(base_url + path, timeout=timeout) as response:  # noqa: S310
        return int(response.status)


@contextmanager
def running_gunicorn(
    variables: Mapping[str, str], log_path: Path, **process_env: str
) -> Iterator[str]:
    """gunicorn on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    env = {**os.environ, **variables, "HOST": "127.0.0.1", "PORT": str(port), **process_env}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    get_status(base_url, "/healthz")
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=60)
