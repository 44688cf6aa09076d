"""A request class whose uploads stay in memory.

Werkzeug spools uploads larger than 500 KB to temporary files on disk; an original photo with
its GPS position must never be written anywhere, so every upload is held in memory (the body is
capped by MAX_CONTENT_LENGTH) until it is re-encoded and sealed.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Request


class InMemoryUploadsRequest(Request):
    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()
