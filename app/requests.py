"""A request class whose uploads stay in memory, each capped while it streams in.

Werkzeug spools uploads larger than 500 KB to temporary files on disk; an original photo with
its GPS position must never be written anywhere, so every upload is held in memory.

Memory stays bounded and nothing typed is lost when someone sends too many or too large photos:
views that take uploads (marked with ``accepts_uploads``) read bodies up to ``UPLOAD_BODY_LIMIT``,
but keep at most ``IMAGE_MAX_BYTES`` (plus one byte, to know it was more) of each of the first
files the codebook allows (``max_files`` of its images question); the rest streams past and is
only counted. The form's text arrives
whole, and the view names exactly which limit a file passed.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Request, current_app
from werkzeug.datastructures import FileStorage

from app.codebook import current_codebook

View = TypeVar("View", bound=Callable[..., Any])


def accepts_uploads(view: View) -> View:
    """Mark a view whose form may carry evidence images (see the module's docstring)."""
    view.accepts_uploads = True  # type: ignore[attr-defined]
    return view


class CappedUpload(io.BytesIO):
    """The first ``keep`` bytes of one upload; ``size`` counts every byte that arrived."""

    def __init__(self, keep: int) -> None:
        super().__init__()
        self.keep = keep
        self.size = 0

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        room = self.keep - min(self.size, self.keep)
        self.size += len(chunk)
        if room > 0:
            super().write(chunk[:room])
        return len(chunk)


def upload_was_kept(upload: FileStorage) -> bool:
    """False for a file beyond the number of files or the size that is kept."""
    stream = upload.stream
    return not isinstance(stream, CappedUpload) or stream.size <= stream.keep - 1


class InMemoryUploadsRequest(Request):
    _files_seen = 0

    def _takes_uploads(self) -> bool:
        view = current_app.view_functions.get(self.endpoint or "")
        return bool(getattr(view, "accepts_uploads", False))

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self._takes_uploads():
            return int(current_app.config["UPLOAD_BODY_LIMIT"])
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        if not filename:  # a file input left empty
            return io.BytesIO()
        self._files_seen += 1
        config = current_app.config
        within_count = self._files_seen <= (current_codebook().question("images").max_files or 0)
        # One byte more than allowed is kept, so that the view can tell "too large".
        return CappedUpload(int(config["IMAGE_MAX_BYTES"]) + 1 if within_count else 0)
