"""The range of dates the service reads from anyone, and the arithmetic that stays inside it.

Every date, month or year typed or sent — the report form, the partner API, the statistics
parameters, the moderation queue, the public statistics page — lies between ``EARLIEST_DATE``
and ``LATEST_DATE`` or is refused with a message. Nothing the service counts can be older (the
codebook asks about incidents since 1990), and the fixed upper bound keeps every step after
reading (the next month, the end of a month) far from the calendar's limits, where ``date``
raises instead of answering. Incidents are further bounded by the day of the report.

The bounds are also written as patterns, so the OpenAPI document states them and a client can
check a value before sending it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Final

EARLIEST_DATE: Final = dt.date(1990, 1, 1)
LATEST_DATE: Final = dt.date(2099, 12, 31)
# ASCII digits only: a regex's \d also matches other scripts' digits, which int() reads.
_YEARS: Final = "(199[0-9]|20[0-9]{2})"
_MONTHS: Final = "(0[1-9]|1[0-2])"
YEAR_PATTERN: Final = f"^{_YEARS}$"
MONTH_PATTERN: Final = f"^{_YEARS}-{_MONTHS}$"
DATE_PATTERN: Final = f"^{_YEARS}-{_MONTHS}-(0[1-9]|[12][0-9]|3[01])$"


def iso_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` inside the range; None for anything else, a day the month lacks too."""
    if not re.fullmatch(DATE_PATTERN, text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None


def iso_month(text: str) -> dt.date | None:
    """The first day of ``YYYY-MM`` inside the range; None for anything else."""
    if not re.fullmatch(MONTH_PATTERN, text):
        return None
    return dt.date(int(text[:4]), int(text[5:7]), 1)


def iso_year(text: str) -> int | None:
    """``YYYY`` inside the range; None for anything else."""
    return int(text) if re.fullmatch(YEAR_PATTERN, text) else None


def month_end(first: dt.date) -> dt.date:
    """The last day of ``first``'s month."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after ``day``'s (for days in the range, never past the
    calendar's end)."""
    return month_end(day) + dt.timedelta(days=1)
