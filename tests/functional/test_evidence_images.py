"""Images through the real form: large photos come out smaller, costly files get a clear answer."""

from __future__ import annotations

import io
import struct
import zlib

from flask import Flask
from PIL import Image
from sqlalchemy import select

from app.crypto import keyring
from app.crypto.reports import open_report
from app.extensions import db
from app.models import Report
from tests.factories import report_form_data
from tests.functional.conftest import kept_answers, post_report, receipt_code


def photo(size: tuple[int, int]) -> io.BytesIO:
    image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    buffer.seek(0)
    return buffer


def sixteen_bit_png_header(width: int, height: int) -> io.BytesIO:
    """A 16-bit RGBA PNG's header over a stub of pixel data: refused before decoding."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    stub = zlib.compress(bytes(64))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", stub) + chunk(b"IEND", b"")
    return io.BytesIO(png)


def test_a_photo_larger_than_the_output_size_is_stored_smaller(intake_app: Flask) -> None:
    intake_app.config["IMAGE_MAX_OUTPUT_PIXELS"] = 70_000
    data = report_form_data()
    data["images"] = [(photo((400, 300)), "IMG_2041.jpg")]
    response = post_report(intake_app.test_client(), data)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert receipt_code(response)
    with intake_app.app_context():
        report = db.session.scalars(select(Report)).one()
        unlocked = keyring.unlock_with_recovery(intake_app.config["TEST_RECOVERY_KEY"])
        (stored,) = open_report(report, unlocked).attachments
    image = Image.open(io.BytesIO(stored.data))
    assert image.size == (305, 229)  # 400 x 300 shrunk to at most 70,000 pixels
    assert stored.meta.original_name == "IMG_2041.jpg"


def test_a_costly_image_is_refused_with_a_message_and_keeps_the_text(intake_app: Flask) -> None:
    for lang, message in [
        ("de", "Das Bild „\u2068bunt.png\u2069“ ist zu aufwendig zu verarbeiten"),
        ("en", "The image “\u2068bunt.png\u2069” is too demanding to process"),
    ]:
        data = report_form_data(description="Am Bahnhof, gegen Mittag.")
        data["images"] = [(sixteen_bit_png_header(6000, 6000), "bunt.png")]
        response = post_report(intake_app.test_client(), data, lang=lang)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in html
        assert kept_answers(response)["description"] == "Am Bahnhof, gegen Mittag."
    with intake_app.app_context():
        assert db.session.scalars(select(Report)).first() is None
