"""A canary: a unique string stored through the submit path must appear nowhere in plaintext.

Every file under ``instance/`` (the SQLite database with its WAL and shared-memory files,
uploads, anything else), every row of every table, the PostgreSQL server's own data folder, and
everything logged or printed is searched in UTF-8, UTF-16 (both byte orders), hex and Base64.
A control test plants the same kind of string unsealed and proves the search finds it.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image, PngImagePlugin
from sqlalchemy import select, text

from app.codebook import current_codebook
from app.crypto import keyring
from app.crypto.attachments import sanitise_image
from app.crypto.reports import Evidence
from app.extensions import db
from app.models import AuditEvent, Base
from tests.factories import store_sample_report
from tests.postgres import PostgresServer

RECEIPT_SECRET = b"s" * 32


def spellings(canary: str) -> list[bytes]:
    raw = canary.encode("utf-8")
    return [
        raw,
        canary.encode("utf-16-le"),
        canary.encode("utf-16-be"),
        raw.hex().encode(),
        raw.hex().upper().encode(),
        base64.b64encode(raw)[:-4],  # the stable middle part of any Base64 rendering
    ]


def _found_in(data: bytes, canary: str) -> bool:
    return any(spelling in data for spelling in spellings(canary))


def files_containing(root: Path, canary: str) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and _found_in(path.read_bytes(), canary):
            hits.append(str(path))
    return hits


def rows_containing(canary: str) -> list[str]:
    """Every value of every table, as the database hands it out (a logical dump)."""
    hits = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for column, value in zip(table.columns, row, strict=True):
                if isinstance(value, bytes | memoryview):
                    data = bytes(value)
                elif isinstance(value, dict | list):
                    data = json.dumps(value).encode()
                else:
                    data = str(value).encode()
                if _found_in(data, canary):
                    hits.append(f"{table.name}.{column.name}")
    return hits


def image_with(canary: str) -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", canary)
    info.add_itxt("Author", canary)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.fixture
def canary() -> str:
    return f"Kanarienvogel-{secrets.token_hex(12)}"


@pytest.fixture
def server_data(request: pytest.FixtureRequest, database_url: str) -> Iterator[Path | None]:
    """The PostgreSQL server's data folder when the test runs on PostgreSQL."""
    if database_url.startswith("postgresql"):
        server: PostgresServer = request.getfixturevalue("postgres_server")
        yield server.folder / "data"
    else:
        yield None


def everything_on_disk(app: Flask, server_data: Path | None, canary: str) -> list[str]:
    with app.app_context():
        if server_data is not None:
            db.session.execute(text("CHECKPOINT"))
        hits = rows_containing(canary)
    hits += files_containing(Path(app.instance_path), canary)
    if server_data is not None:
        hits += files_containing(server_data, canary)
    return hits


def test_canary_is_sealed_everywhere(
    db_app: Flask,
    server_data: Path | None,
    canary: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    with db_app.app_context():
        keyring.initialise_keys(dt.date(2026, 11, 26))
        image = sanitise_image(image_with(canary))
        stored = store_sample_report(
            RECEIPT_SECRET,
            evidence=[Evidence(image, original_name=f"{canary}.png")],
            town="other",
            town_other=f"Dorf {canary}",
            district=f"Viertel {canary}",
            place_type="online",
            platform="facebook",
            online_link=f"https://example.org/posts/{canary}",
            incident_types=["other", "verbal_abuse"],
            other_type=f"Art {canary}",
            description=f"{canary} – Ümläute, العربية, emoji 🕌",
            perpetrator_description=f"Täter {canary}",
            reported_elsewhere=["none"],
            why_not_text=f"Grund {canary}",
            contact_email=f"{canary}@example.org",
        )
        db.session.commit()
        receipt = stored.receipt.value
        sealed = {field.name for field in stored.report.fields}
        # The canary went into every free-text question the codebook has.
        assert sealed == {
            q.id for q in current_codebook().questions.values() if q.sealed and q.kind != "images"
        }
        assert len(stored.report.attachments) == 1
    # The SQLite WAL is deliberately left unchecked-pointed: fresh writes live there.
    assert everything_on_disk(db_app, server_data, canary) == []
    out, err = capfd.readouterr()
    for captured in (caplog.text, out, err):
        assert not _found_in(captured.encode(), canary)
        assert receipt not in captured
    assert everything_on_disk(db_app, server_data, receipt) == []


def test_control_plaintext_is_found(db_app: Flask, server_data: Path | None, canary: str) -> None:
    """Without sealing, the same search finds the string: the canary test can fail."""
    with db_app.app_context():
        db.session.add(AuditEvent(tag="test:control:plain", summary=canary, details={}))
        db.session.commit()
    hits = everything_on_disk(db_app, server_data, canary)
    assert "audit_event.summary" in hits
    assert any(not hit.startswith("audit_event") for hit in hits), "the files were searched too"
