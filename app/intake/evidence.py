"""Cleaning uploaded images with the configured limits, a few at a time in each process.

Cleaning a photo holds memory in proportion to its pixels, for a second or two. Ten people
sending photos at once would make every worker decode several at the same moment, so each
process cleans at most IMAGE_CLEANING_SLOTS images at once and the others wait their turn
(a short wait; the two cores of a small server are busy either way).

After a cleaning glibc keeps the freed memory in its arenas for reuse: Pillow allocates a large
picture in 16 MB blocks, and once glibc has seen such a block freed it raises its threshold for
serving allocations from fresh mappings, so later blocks come from the arenas and stay with the
process (workers kept 600-800 MiB after ten uploads). When the last cleaning in flight ends, the
process hands that memory back with malloc_trim, in milliseconds. (Pillow's own block cache is
off by default, so it keeps nothing. A fixed mmap threshold via mallopt would return each block
at once too, but costs every cleaning about 40 % more CPU in page faults.)
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app
from werkzeug.datastructures import FileStorage

from app.crypto.attachments import SanitisedImage, sanitise_image


def clean_upload(upload: FileStorage) -> SanitisedImage:
    """The upload re-encoded without metadata, once a cleaning slot of this process is free.

    Raises:
        app.crypto.errors.ImageRejected: with the reason from :func:`sanitise_image`.
    """
    config = current_app.config
    with _cleaning_slots().taken():
        # One byte more than allowed is enough to know that a file is too large.
        data = upload.read(config["IMAGE_MAX_BYTES"] + 1)
        return sanitise_image(
            data,
            max_bytes=config["IMAGE_MAX_BYTES"],
            max_pixels=config["IMAGE_MAX_PIXELS"],
            max_decoded_bytes=config["IMAGE_MAX_DECODED_BYTES"],
            max_output_pixels=config["IMAGE_MAX_OUTPUT_PIXELS"],
            max_frames=config["IMAGE_MAX_FRAMES"],
        )


class CleaningSlots:
    """A bounded semaphore that also knows when no cleaning is in flight any more."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._busy = 0

    @contextmanager
    def taken(self) -> Iterator[None]:
        idle = False
        try:
            with self._slots:
                with self._lock:
                    self._busy += 1
                try:
                    yield
                finally:
                    with self._lock:
                        self._busy -= 1
                        idle = self._busy == 0
        finally:
            if idle:  # outside the slot, so that nobody waits for the trim
                return_free_memory()


def _cleaning_slots() -> CleaningSlots:
    """The slots of this application, made on first use (one application per worker process)."""
    slots: CleaningSlots | None = current_app.extensions.get("image_cleaning_slots")
    if slots is None:
        wanted = CleaningSlots(max(int(current_app.config["IMAGE_CLEANING_SLOTS"]), 1))
        # setdefault: two first requests at once still share one set of slots.
        slots = current_app.extensions.setdefault("image_cleaning_slots", wanted)
    return slots


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to hand back this way
        return None
    return trim


_malloc_trim = _load_malloc_trim()


def return_free_memory() -> None:
    """Hand the free memory of glibc's arenas back to the system (a few milliseconds)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
