"""The development server behind `make run`: Werkzeug's, with a request log that has no address.

Werkzeug's own handler starts every log line with the client's IP address; this one logs method,
path and status only, so even a developer's console never holds a reporter's address.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from werkzeug.serving import WSGIRequestHandler, run_simple

from app import create_app
from app.startup import prepare_to_serve

log = logging.getLogger("meldeportal.devserver")


class AddressFreeRequestHandler(WSGIRequestHandler):
    def address_string(self) -> str:
        return "-"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Query strings may carry anything: keep them out; escape control characters.
        path = getattr(self, "path", "").split("?", 1)[0].translate(self._control_char_table)
        log.info("%s %s %s", getattr(self, "command", "-"), path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(log, type if type in {"info", "warning", "error"} else "info")(message, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run Meldeportal's development server.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Werkzeug's own logger would print the address in its start-up and error lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app()
    prepare_to_serve(app)
    log.info("Meldeportal (%s) on http://%s:%d/", app.config["ENV_NAME"], args.host, args.port)
    run_simple(args.host, args.port, app, request_handler=AddressFreeRequestHandler, threaded=True)


if __name__ == "__main__":
    main()
