"""No log line may date a reporter's request: a report keeps its day, never its time.

A log line is stamped to the second — by its own format, or by journald or docker, which stamp
every line they receive — so leaving the time out of a line is not enough: while a reporter's
request is served, nothing is written at all. Not the access log line (gunicorn:
``app.accesslog``; `make run`: ``app.devserver``), not an error (Flask's "Exception on …"), not a
library's notice (Flask-Limiter's breach, Flask-WTF's CSRF failure), not our own mail warning.
Such records are only counted, per day, and each day's counts are written once the day is over
(by the first request of a later day that is not a reporter's), so that an operator still learns
that something failed, and on which day.
"""

from __future__ import annotations

import datetime as dt
import logging
import posixpath
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from flask import Flask
from flask.logging import default_handler

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("meldeportal.logs")

# Files a browser fetches by itself for every page, the reporter's pages too: a stylesheet
# revalidated right after an unlogged report would date it as well as the report's own line.
BROWSER_FETCHED = ("static", "favicon.ico")


def is_reporter_path(path: str) -> bool:
    """Whether a request for ``path`` belongs to a reporter's visit and must leave no line.

    ``path`` is the decoded path without the query (WSGI's PATH_INFO). Reporter paths are the
    form ``/<lang>/report`` and everything under it (receipt, thanks, status and its actions;
    also without the language, as a person may type it),
    the partner API's ``/api/<version>/reports``, and the files their pages make the browser
    fetch. Matching is generous (any first segment, any case, repeated slashes and dot segments
    folded): leaving out a line too many costs nothing.
    """
    parts = [part.lower() for part in posixpath.normpath("/" + path).split("/") if part]
    if not parts:
        return False
    return (
        "report" in parts[:2]
        or (parts[0] == "api" and parts[2:3] == ["reports"])
        or parts[0] in BROWSER_FETCHED
    )


def request_target_path(target: str) -> str:
    """The decoded path of a raw HTTP request target (origin form, absolute form or ``//x``)."""
    split = urlsplit(target)
    path = f"/{split.netloc}{split.path}" if not split.scheme and split.netloc else split.path
    return unquote(path)


_serving_reporter: ContextVar[bool] = ContextVar("meldeportal_serving_reporter", default=False)


@contextmanager
def serving(path: str) -> Iterator[None]:
    """While this runs, log records belong to a request for ``path`` (withheld if a reporter's)."""
    token = _serving_reporter.set(_serving_reporter.get() or is_reporter_path(path))
    try:
        yield
    finally:
        _serving_reporter.reset(token)


def in_reporter_request() -> bool:
    return _serving_reporter.get()


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class WithheldRecords(logging.Filter):
    """Drops every record made while a reporter's request is served; counts it by day.

    Attached to the handlers, not to loggers, so that it sees the records of every library.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._counts: Counter[tuple[dt.date, int, str, str]] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "meldeportal_withheld", False):
            return False  # already counted by another handler
        if not in_reporter_request():
            return True
        record.meldeportal_withheld = True
        exc_type = record.exc_info[0] if record.exc_info else None
        self.count(record.levelno, record.name, exc_type.__name__ if exc_type else "")
        return False

    def count(self, level: int, logger: str, exception: str = "") -> None:
        """Count one record that was not written: its level, logger and exception class."""
        with self._lock:
            self._counts[(_utc_today(), level, logger, exception)] += 1

    def take_days_before(self, today: dt.date) -> dict[dt.date, Counter[tuple[int, str, str]]]:
        """The counts of every day before ``today``, forgotten here once taken."""
        taken: dict[dt.date, Counter[tuple[int, str, str]]] = {}
        with self._lock:
            for key in [key for key in self._counts if key[0] < today]:
                taken.setdefault(key[0], Counter())[key[1:]] += self._counts.pop(key)
        return taken


WITHHELD = WithheldRecords()


def withhold_on(handlers: Iterable[logging.Handler] = ()) -> None:
    """Attach the filter to ``handlers`` and to every handler a record may reach by default.

    Those are the root logger's handlers as configured now, Flask's default handler (the app's
    logger writes there when nothing else is configured, e.g. under gunicorn) and logging's last
    resort (where warnings of other loggers go then). Call again after configuring logging.
    """
    for handler in (*handlers, *logging.getLogger().handlers, default_handler):
        handler.addFilter(WITHHELD)
    if logging.lastResort is not None:
        logging.lastResort.addFilter(WITHHELD)


def write_withheld_counts(today: dt.date | None = None) -> None:
    """Write one line per finished day on which records of reporter requests were withheld."""
    if in_reporter_request():
        return  # the line's own time would date this request
    for day, counts in sorted(WITHHELD.take_days_before(today or _utc_today()).items()):
        parts = [
            " ".join(filter(None, (str(number), logging.getLevelName(level), logger, exception)))
            for (level, logger, exception), number in sorted(counts.items(), reverse=True)
        ]
        worst = max(level for level, _, _ in counts)
        log.log(
            min(worst, logging.WARNING),
            "Withheld %d log records of reporter requests on %s: %s",
            sum(counts.values()),
            day.isoformat(),
            ", ".join(parts),
        )


class ReporterRequestMarker:
    """WSGI middleware: marks the records of a reporter's request so that they are withheld."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with serving(str(environ.get("PATH_INFO", ""))):
            return self.wsgi_app(environ, start_response)


def init_reporter_logs(app: Flask) -> None:
    app.wsgi_app = ReporterRequestMarker(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(write_withheld_counts)
    withhold_on()
