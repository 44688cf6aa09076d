"""Many people sending at once all get their receipts, on SQLite and on PostgreSQL.

The defect this guards: under gunicorn with many workers, SQLite's one write lock was held from
the report's first write through sealing and rendering, and a third of the requests of a burst
failed with "database is locked". Reports are now sealed before they are written, the write is
short, and a writer that finds the lock taken waits and tries again.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from app import create_app
from app.codebook import current_codebook
from app.extensions import db
from app.intake.steps import steps_of
from app.models import Attachment, Incident, Report
from tests.factories import report_form_data
from tests.functional.conftest import step_answers
from tests.gunicorn import environment, gunicorn_serving, instance_environment, prepare_instance
from tests.postgres import PostgresServer

PEOPLE = 50
TIMEOUT = 300

# Eight gunicorn workers of eight threads and fifty clients: alone, or they starve.
pytestmark = pytest.mark.serial


@pytest.fixture(params=["sqlite", "postgresql"])
def database_settings(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield {"DATABASE_URL": server.url(name)}
    finally:
        server.drop_database(name)


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((800, 600), 64).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _send(base_url: str, number: int, photo: bytes) -> tuple[int, str]:
    """One person walks the form's steps and sends it with a photo on the last one."""
    data = report_form_data(description=f"Bericht Nummer {number}")
    with requests.Session() as browser:
        page = browser.get(f"{base_url}/de/report", timeout=TIMEOUT).text
        for step in steps_of(current_codebook()):
            fields: list[tuple[str, tuple[str | None, str | bytes] | tuple[str, bytes, str]]] = []
            for name in ("csrf_token", "form_state"):
                match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
                assert match, page[:300]
                fields.append((name, (None, match.group(1))))
            for name, value in step_answers(data, step).items():
                for item in value if isinstance(value, list) else [value]:
                    fields.append((name, (None, item)))
            if step.final:
                fields.append(("images", ("beweis.jpg", photo, "image/jpeg")))
            fields.append(("action", (None, "send" if step.final else "next")))
            answer = browser.post(f"{base_url}/de/report", files=fields, timeout=TIMEOUT)
            page = answer.text
            if answer.status_code != 200:
                break
        # The code's groups are elements of their own (they must not break on a narrow screen).
        match = re.search(r'id="receipt-code"[^>]*>(.*?)</strong>', answer.text)
        code = re.sub(r"<[^>]*>", "", match.group(1)).strip() if match else ""
        return answer.status_code, code


def _count(variables: dict[str, str], model: type) -> int:
    with environment(variables):
        app: Flask = create_app()
        with app.app_context():
            counted = int(db.session.scalar(select(func.count()).select_from(model)) or 0)
            db.session.remove()
            db.engine.dispose()
    return counted


def test_fifty_people_sending_at_once_all_get_receipts(
    tmp_path: Path, database_settings: dict[str, str]
) -> None:
    variables = instance_environment(
        tmp_path / "instance",
        INTAKE_MIN_FILL_SECONDS="0",
        REPORT_RATE_LIMIT="10000 per hour",  # every client here is 127.0.0.1
        SESSION_COOKIE_SECURE="false",
        **database_settings,
    )
    prepare_instance(variables)
    photo = _photo()
    # Many workers and threads: the most writers at once that one machine will see.
    with gunicorn_serving(
        variables, tmp_path / "gunicorn.log", WEB_CONCURRENCY="8", GUNICORN_THREADS="8"
    ) as port:
        base_url = f"http://127.0.0.1:{port}"
        with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
            answers = list(pool.map(lambda n: _send(base_url, n, photo), range(PEOPLE)))
    log = (tmp_path / "gunicorn.log").read_text()
    assert [status for status, _ in answers] == [200] * PEOPLE, log[-3000:]
    assert len({code for _, code in answers}) == PEOPLE
    assert "Traceback" not in log
    for model in (Report, Incident, Attachment):
        assert _count(variables, model) == PEOPLE
