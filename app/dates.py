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
import functools
import re
from typing import Final

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from flask import has_request_context
from flask_babel import get_locale
from markupsafe import Markup

from app.config import DEFAULT_LANGUAGE

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


# --- Dates in words, for people -----------------------------------------------------------
# Every date a page, a message or a mail shows to a person goes through these, in the page's
# language: "1. Dezember 2026", "1 December 2026". Machine-readable places (exports, the API,
# <time datetime>, form values) keep ISO 8601.

# English pages write the day before the month, as the rest of Europe does ("1 December 2026";
# Babel's plain "en" is American, "December 1, 2026").
_DATE_LOCALES: Final = {"en": "en_GB"}


@functools.lru_cache(maxsize=32)
def _babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(_DATE_LOCALES.get(language, language))
    except (ValueError, UnknownLocaleError):  # a configured language Babel does not know
        return Locale.parse(DEFAULT_LANGUAGE)


def _page_locale(language: str | None) -> Locale:
    if language is None:
        current = get_locale() if has_request_context() else None
        language = current.language if current is not None else DEFAULT_LANGUAGE
    return _babel_locale(language)


def format_day(day: dt.date, language: str | None = None) -> str:
    """``day`` in words in ``language`` (default: the page's): "1. Dezember 2026"."""
    return babel_dates.format_date(day, "long", locale=_page_locale(language))


def format_month(first: dt.date, language: str | None = None) -> str:
    """``first``'s month in words: "Dezember 2026"."""
    return babel_dates.format_skeleton("yMMMM", first, locale=_page_locale(language))


def format_period(first: dt.date, last: dt.date, language: str | None = None) -> str:
    """A period of days in words: one day, a whole month ("November 2026"), or "from – to"."""
    if first == last:
        return format_day(first, language)
    if first.day == 1 and last == month_end(first):
        return format_month(first, language)
    return f"{format_day(first, language)} – {format_day(last, language)}"


def format_moment(moment: dt.datetime, language: str | None = None) -> str:
    """A time in UTC to the minute, for staff pages that need one (the audit log)."""
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    time = babel_dates.format_time(utc.time(), "HH:mm", locale=_page_locale(language))
    return f"{format_day(utc.date(), language)}, {time}"


def day_element(day: dt.date, language: str | None = None) -> Markup:
    """``<time datetime="2026-12-01">1. Dezember 2026</time>``: words for people, ISO for
    machines (the ``day`` filter in templates)."""
    words = format_day(day, language)
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), words)


def period_element(first: dt.date, last: dt.date, language: str | None = None) -> Markup:
    """A period in words, its ends (or its month) in ``<time>`` elements (the ``period``
    filter). HTML has no interval value, so "from – to" becomes two elements."""
    words = format_period(first, last, language)
    if first == last:
        return day_element(first, language)
    if first.day == 1 and last == month_end(first):
        return Markup('<time datetime="{}">{}</time>').format(first.isoformat()[:7], words)
    return Markup("{} – {}").format(day_element(first, language), day_element(last, language))
