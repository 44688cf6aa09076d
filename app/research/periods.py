"""Which days a period of the statistics covers, and how a partial period is named.

A period (a year "2026", a quarter "2026-Q4" or a month "2026-11") is counted from its first to
its last day, except at the two ends of the data:

- the period of today is counted only up to today (the counts are current in every
  transaction, so an incident coded today is in them; nothing after today can be), and
- the period in which the data begin is counted only from the first day of the first month
  with a counted incident: the counts know months, not days, so the data "begin" on the 1st of
  that month. The research tables already start at that month; the public page names the first
  month whose published number is not 0 (``public.published_data_begin``), so that its label
  never tells what the noise of a published 0 hides.

Such a period is "partial": its label says up to or from which day it is counted, and exports
carry its covered days as ISO dates. A period that has not begun is never listed at all (see
``statistics.period_codes``): a future month is absent, not a 0. The published numbers are the
same either way; this is only what a reader is told about them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from app.dates import month_end

# German "30. November 2026", English "30 November 2026": the day first in both, the month as
# a word, so that no reader takes 1.12. for 12 January.
DAY_FORMATS: Final = {"de": "long", "en": "d MMMM y"}


@dataclass(frozen=True)
class PeriodCoverage:
    """The days a period's numbers count: ``first_day`` to ``last_day``, both included."""

    code: str
    first_day: dt.date
    last_day: dt.date
    partial: bool  # fewer days than the whole period


def period_days(code: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period code ("2026", "2026-Q4" or "2026-11")."""
    year = int(code[:4])
    if len(code) == 4:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if code[5] == "Q":
        first = dt.date(year, (int(code[6]) - 1) * 3 + 1, 1)
        return first, month_end(first.replace(month=first.month + 2))
    first = dt.date(year, int(code[5:7]), 1)
    return first, month_end(first)


def period_coverage(code: str, data_begin: dt.date | None, today: dt.date) -> PeriodCoverage:
    """The days of ``code`` that are counted, given the first day of the data (the 1st of the
    first month with a counted incident; None without any) and today.

    A period wholly before the data begin keeps all its days: nothing was counted in it, and
    its 0 is the count of the whole period. Periods after today are never asked for.
    """
    first, last = period_days(code)
    # A wrongly coded future date cannot move the beginning past today.
    begins_inside = data_begin is not None and first < data_begin <= min(last, today)
    covered_first = data_begin if data_begin is not None and begins_inside else first
    covered_last = min(last, today)
    return PeriodCoverage(
        code, covered_first, covered_last, (covered_first, covered_last) != (first, last)
    )


def partial_note(coverage: PeriodCoverage, lang: str) -> str:
    """What a partial period's label adds in brackets ("" for a whole period), in ``lang``
    (words and dates alike, whatever the request's language)."""
    if not coverage.partial:
        return ""
    whole_first, whole_last = period_days(coverage.code)
    pattern = DAY_FORMATS.get(lang, "long")
    with force_locale(lang):
        first = str(format_date(coverage.first_day, pattern))
        last = str(format_date(coverage.last_day, pattern))
        if coverage.first_day != whole_first and coverage.last_day != whole_last:
            return str(_("%(first)s bis %(last)s", first=first, last=last))
        if coverage.last_day != whole_last:
            return str(_("bis %(last)s", last=last))
        return str(_("ab %(first)s", first=first))


def period_label(text: str, coverage: PeriodCoverage, lang: str) -> str:
    """``text`` (the period as people read it) with its partial note in brackets, if any."""
    note = partial_note(coverage, lang)
    return f"{text} ({note})" if note else text
