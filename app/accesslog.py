"""gunicorn's logger for Meldeportal (``logger_class`` in gunicorn.conf.py).

A reporter's request gets no access log line at all: leaving out only the time would not do,
because journald and docker stamp every line they receive. Every other request keeps its line
without address, query or referrer (the format in gunicorn.conf.py). gunicorn's own error lines
lose what would name a client or a reporter's request: the address in "Invalid request from
ip=…", the quoted bytes a client sent, the query of a failed request, and the line itself when
the failed request was a reporter's (it is counted for the day instead, see app.reporter_logs).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from gunicorn.glogging import Logger

from app.reporter_logs import (
    WITHHELD,
    is_reporter_path,
    request_target_path,
    withhold_on,
)

_INVALID_REQUEST = re.compile(r"^Invalid request from ip=.*?: ")
# What a client sent is quoted (repr) in gunicorn's messages: a request line, a header, a
# PROXY line with addresses in it.
_QUOTED = re.compile(r"""b?(['"]).*\1""")


def _request_path(req: Any, environ: dict[str, Any]) -> str:
    path = environ.get("PATH_INFO")
    if path is None:  # a request refused before its environment was made
        path = request_target_path(str(getattr(req, "uri", None) or getattr(req, "path", "")))
    return str(path)


class PrivateLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        withhold_on([*self.error_log.handlers, *self.access_log.handlers])

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if is_reporter_path(_request_path(req, environ)):
            return
        super().access(resp, req, environ, request_time)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        text = str(msg)
        if _INVALID_REQUEST.match(text):
            msg = _QUOTED.sub("'…'", _INVALID_REQUEST.sub("Invalid request: ", text))
        super().warning(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        if str(msg).startswith("Error handling request") and args:
            path = request_target_path(str(args[-1]))
            if is_reporter_path(path):
                failure = sys.exc_info()[0]  # gunicorn calls this while handling the exception
                WITHHELD.count(
                    logging.ERROR, self.error_log.name, failure.__name__ if failure else ""
                )
                return
            args = (*args[:-1], path)  # never the query
        super().exception(msg, *args, **kwargs)
