"""Uploads are cleaned with the configured limits, a bounded number at a time per process."""

from __future__ import annotations

import io
import platform
import threading
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from werkzeug.datastructures import FileStorage

from app.crypto.attachments import SanitisedImage
from app.crypto.errors import ImageRejected
from app.intake import evidence
from app.intake.evidence import clean_upload

WAIT = 10  # seconds; only ever reached when the test fails


def upload(data: bytes, name: str = "foto.jpg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def jpeg(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_the_configured_limits_are_applied(make_app: Any) -> None:
    app: Flask = make_app(IMAGE_MAX_OUTPUT_PIXELS=1200, IMAGE_MAX_FRAMES=1, IMAGE_MAX_BYTES=5000)
    with app.app_context():
        cleaned = clean_upload(upload(jpeg((80, 60))))
        assert (cleaned.width, cleaned.height) == (40, 30)
        frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
        buffer = io.BytesIO()
        frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
        with pytest.raises(ImageRejected, match="too_complex"):
            clean_upload(upload(buffer.getvalue(), "animation.png"))
        with pytest.raises(ImageRejected, match="too_large"):
            clean_upload(upload(jpeg((80, 60)) + bytes(5000)))
    app = make_app(IMAGE_MAX_DECODED_BYTES=1000)
    with app.app_context(), pytest.raises(ImageRejected, match="too_complex"):
        clean_upload(upload(jpeg((80, 60))))


def test_no_more_images_are_cleaned_at_once_than_the_slots_allow(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app: Flask = make_app(IMAGE_CLEANING_SLOTS=2)
    inside: list[int] = []
    changed = threading.Condition()
    finish = threading.Event()
    trims: list[int] = []

    def slow_cleaning(data: bytes, **limits: int) -> SanitisedImage:
        with changed:
            inside.append(1)
            changed.notify_all()
        finish.wait(WAIT)
        with changed:
            inside.pop()
            changed.notify_all()
        return SanitisedImage(b"", "image/jpeg", 1, 1)

    def trim() -> None:
        trims.append(len(inside))

    monkeypatch.setattr(evidence, "sanitise_image", slow_cleaning)
    monkeypatch.setattr(evidence, "return_free_memory", trim)

    def person() -> None:
        with app.app_context():
            clean_upload(upload(b"photo"))

    people = [threading.Thread(target=person) for _ in range(5)]
    for each in people:
        each.start()
    with changed:
        assert changed.wait_for(lambda: len(inside) == 2, WAIT)
        # The other three wait for a slot: nobody else gets in while the two are busy.
        assert not changed.wait_for(lambda: len(inside) > 2, 0.3)
    assert trims == []
    finish.set()
    for each in people:
        each.join(WAIT)
    assert not any(each.is_alive() for each in people)
    assert inside == []
    # Memory is handed back once nothing is being cleaned any more, not after each image.
    assert trims
    assert trims[-1] == 0
    assert len(trims) < 5


def test_slots_are_per_application_and_made_once(make_app: Any) -> None:
    app: Flask = make_app(IMAGE_CLEANING_SLOTS=3)
    with app.app_context():
        slots = evidence._cleaning_slots()
        assert slots.size == 3
        assert evidence._cleaning_slots() is slots


def test_memory_is_handed_back_with_glibcs_malloc_trim() -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    assert evidence._malloc_trim is not None
    evidence.return_free_memory()
