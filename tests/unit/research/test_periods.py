"""Partial periods (app/research/periods.py and ``statistics.period_codes``): which days a
period counts, how its label says so in German and English, and that no period that has not
begun is listed."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask_babel import force_locale

from app.research.periods import PeriodCoverage, period_coverage, period_days, period_label
from app.research.statistics import StatisticsQuery, period_codes

D = dt.date


@pytest.mark.parametrize(
    ("code", "days"),
    [
        ("2026", (D(2026, 1, 1), D(2026, 12, 31))),
        ("2026-Q1", (D(2026, 1, 1), D(2026, 3, 31))),
        ("2026-Q4", (D(2026, 10, 1), D(2026, 12, 31))),
        ("2028-02", (D(2028, 2, 1), D(2028, 2, 29))),
        ("2026-11", (D(2026, 11, 1), D(2026, 11, 30))),
    ],
)
def test_a_period_code_names_its_first_and_last_day(
    code: str, days: tuple[dt.date, dt.date]
) -> None:
    assert period_days(code) == days


def covered(code: str, begin: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date, bool]:
    coverage = period_coverage(code, begin, today)
    return coverage.first_day, coverage.last_day, coverage.partial


def test_the_current_year_quarter_and_month_end_today() -> None:
    today = D(2026, 11, 30)
    begin = D(2019, 3, 1)
    assert covered("2026", begin, today) == (D(2026, 1, 1), today, True)
    assert covered("2026-Q4", begin, today) == (D(2026, 10, 1), today, True)
    # Today is the month's last day: each of its days is counted (later reports may still
    # add to it, as to every period), so it is whole.
    assert covered("2026-11", begin, today) == (D(2026, 11, 1), today, False)
    assert covered("2026-10", begin, today) == (D(2026, 10, 1), D(2026, 10, 31), False)
    assert covered("2025", begin, today) == (D(2025, 1, 1), D(2025, 12, 31), False)


def test_the_period_the_data_begin_in_counts_from_their_first_month() -> None:
    today = D(2026, 11, 30)
    begin = D(2019, 3, 1)
    assert covered("2019", begin, today) == (begin, D(2019, 12, 31), True)
    assert covered("2019-Q1", begin, today) == (begin, D(2019, 3, 31), True)
    # The data begin on the 1st of their first month: that month is whole.
    assert covered("2019-03", begin, today) == (begin, D(2019, 3, 31), False)
    # A period before the data begin (asked for with `from`) counts all its days, as 0.
    assert covered("2018", begin, today) == (D(2018, 1, 1), D(2018, 12, 31), False)
    # Data that begin in January make a whole first year.
    assert not period_coverage("2020", D(2020, 1, 1), today).partial


def test_data_that_begin_this_year_make_it_partial_at_both_ends() -> None:
    today = D(2026, 11, 30)
    assert covered("2026", D(2026, 3, 1), today) == (D(2026, 3, 1), today, True)


def test_without_any_data_only_today_ends_a_period() -> None:
    today = D(2026, 11, 30)
    assert covered("2026", None, today) == (D(2026, 1, 1), today, True)
    assert covered("2025", None, today) == (D(2025, 1, 1), D(2025, 12, 31), False)


def test_a_wrongly_coded_future_month_does_not_move_the_beginning() -> None:
    today = D(2026, 3, 15)
    assert covered("2026", D(2026, 7, 1), today) == (D(2026, 1, 1), today, True)


@pytest.mark.parametrize("today", [D(2026, 12, 1), D(2027, 1, 1)])
def test_on_the_first_of_a_month_the_new_month_counts_one_day(today: dt.date) -> None:
    month = f"{today.year:04d}-{today.month:02d}"
    assert covered(month, D(2019, 3, 1), today) == (today, today, True)
    previous = period_coverage("2026-11", D(2019, 3, 1), today)
    assert (previous.last_day, previous.partial) == (D(2026, 11, 30), False)
    # At the turn of the year the old year is whole and the new one has begun.
    assert covered(str(today.year), D(2019, 3, 1), today)[2] is True
    if today.year == 2027:
        assert covered("2026", D(2019, 3, 1), today)[2] is False


@pytest.mark.parametrize(
    ("lang", "until", "since", "both"),
    [
        (
            "de",
            "2026 (bis 30. November 2026)",
            "2019 (ab 1. März 2019)",
            "2026 (1. März 2026 bis 30. November 2026)",
        ),
        (
            "en",
            "2026 (until 30 November 2026)",
            "2019 (from 1 March 2019)",
            "2026 (1 March 2026 to 30 November 2026)",
        ),
    ],
)
def test_a_partial_period_says_its_days_in_the_page_language(
    app: Flask, lang: str, until: str, since: str, both: str
) -> None:
    today = D(2026, 11, 30)
    with app.test_request_context(), force_locale(lang):
        assert period_label("2026", period_coverage("2026", D(2019, 3, 1), today), lang) == until
        assert period_label("2019", period_coverage("2019", D(2019, 3, 1), today), lang) == since
        assert period_label("2026", period_coverage("2026", D(2026, 3, 1), today), lang) == both
        whole = PeriodCoverage("2025", D(2025, 1, 1), D(2025, 12, 31), partial=False)
        assert period_label("2025", whole, lang) == "2025"


def test_no_period_that_has_not_begun_is_listed() -> None:
    months = StatisticsQuery(granularity="month", first_month="2026-10", last_month="2027-03")
    assert period_codes(months, "2019-03", D(2026, 11, 30)) == ("2026-10", "2026-11")
    # On the first of a month, the month has begun.
    assert period_codes(months, "2019-03", D(2026, 12, 1))[-1] == "2026-12"
    quarters = StatisticsQuery(granularity="quarter", first_month="2026-01")
    assert period_codes(quarters, None, D(2026, 11, 30)) == tuple(f"2026-Q{n}" for n in range(1, 5))
    years = StatisticsQuery()
    assert period_codes(years, "2024-05", D(2027, 1, 1)) == ("2024", "2025", "2026", "2027")
    # Nothing counted and nothing asked for: no period at all.
    assert period_codes(years, None, D(2026, 11, 30)) == ()
