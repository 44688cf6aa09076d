"""The development server behind `make run`: Werkzeug's, with a log that names no client.

Werkzeug's handler starts every log line with the client's address; this one logs method, path
and status only, and nothing at all for a reporter's request (app.reporter_logs), so even a
developer's console never holds a reporter's address or the time of a report. The address still
reaches the app as REMOTE_ADDR: the rate limits give each client its own bucket.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from werkzeug.serving import WSGIRequestHandler, run_simple

from app import create_app
from app.reporter_logs import (
    WITHHELD,
    in_reporter_request,
    is_reporter_path,
    request_target_path,
    serving,
)
from app.startup import mark_development, prepare_to_serve

log = logging.getLogger("meldeportal.devserver")
LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class AddressFreeRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler with its logging replaced (each of its log methods prints
    ``address_string()``); ``address_string()`` itself stays, as it also makes REMOTE_ADDR."""

    def _path(self) -> str:
        # From the request line, which every request sets anew (also one that fails to parse),
        # read the way Werkzeug makes PATH_INFO from it.
        words = str(getattr(self, "requestline", "")).split()
        return request_target_path(words[1] if len(words) > 1 else "")

    def _for_reporter(self) -> bool:
        return in_reporter_request() or is_reporter_path(self._path())

    def run_wsgi(self) -> None:
        # Werkzeug's "Error on request" is logged here, after the app's own context has ended.
        with serving(self._path()):
            super().run_wsgi()

    def handle(self) -> None:
        try:
            super().handle()
        except Exception:
            # socketserver would print the traceback with the client's address to stderr.
            if self._for_reporter():
                WITHHELD.count(logging.ERROR, log.name)
            else:
                log.exception("Error while handling a request")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self._for_reporter():
            return  # not even counted: a count per day of requests is no error
        # Query strings may carry anything: keep them out; escape control characters.
        path = self._path().translate(self._control_char_table)
        log.info("%s %s %s", getattr(self, "command", "-"), path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = LEVELS.get(type, logging.INFO)
        if self._for_reporter():
            WITHHELD.count(level, log.name)
            return
        log.log(level, message, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run Meldeportal's development server.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Werkzeug's own logger would print the address in its start-up and error lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(development_file=True)
    prepare_to_serve(app)
    mark_development(app, log.info)  # after the key: only a folder with its own is marked
    log.info("Meldeportal (%s) on http://%s:%d/", app.config["ENV_NAME"], args.host, args.port)
    run_simple(args.host, args.port, app, request_handler=AddressFreeRequestHandler, threaded=True)


if __name__ == "__main__":
    main()
