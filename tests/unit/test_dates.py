"""The one range of dates the service reads, and the arithmetic that stays inside it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask, render_template_string

from app.dates import (
    DATE_PATTERN,
    EARLIEST_DATE,
    LATEST_DATE,
    MONTH_PATTERN,
    YEAR_PATTERN,
    day_element,
    format_day,
    format_moment,
    format_period,
    iso_date,
    iso_month,
    iso_year,
    month_end,
    next_month,
    period_element,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-01-01", EARLIEST_DATE),
        ("2099-12-31", LATEST_DATE),
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("1989-12-31", None),
        ("2100-01-01", None),
        ("0000-01-01", None),
        ("9999-12-31", None),
        ("2026-02-29", None),
        ("2026-13-01", None),
        ("2026-1-01", None),
        ("20260101", None),  # fromisoformat would take these two
        ("2026-W01-1", None),
        ("٢٠٢٦-٠١-٠١", None),
        ("2026-01-01\n", None),
        (" 2026-01-01", None),
        ("", None),
    ],
)
def test_iso_dates_inside_the_range_only(text: str, expected: dt.date | None) -> None:
    assert iso_date(text) == expected
    # The document's pattern (ECMA: $ is the end of the text, as fullmatch) admits no more.
    assert bool(re.fullmatch(DATE_PATTERN, text)) == (expected is not None or text == "2026-02-29")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-01", dt.date(1990, 1, 1)),
        ("2099-12", dt.date(2099, 12, 1)),
        ("0000-01", None),
        ("0000-12", None),
        ("9999-12", None),
        ("1989-12", None),
        ("2100-01", None),
        ("2026-00", None),
        ("2026-13", None),
        ("2026-1", None),
        ("２０２６-０１", None),
        ("2026-01\n", None),
    ],
)
def test_iso_months_inside_the_range_only(text: str, expected: dt.date | None) -> None:
    assert iso_month(text) == expected
    assert bool(re.fullmatch(MONTH_PATTERN, text)) == (expected is not None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1990", 1990), ("2099", 2099), ("1989", None), ("2100", None), ("0", None), ("٢٠٢٦", None),
     ("_total", None), ("2026 ", None)],
)  # fmt: skip
def test_iso_years_inside_the_range_only(text: str, expected: int | None) -> None:
    assert iso_year(text) == expected
    assert bool(re.fullmatch(YEAR_PATTERN, text)) == (expected is not None)


def test_month_arithmetic_at_the_edges_of_the_range() -> None:
    assert next_month(dt.date(2099, 12, 1)) == dt.date(2100, 1, 1)
    assert next_month(dt.date(2099, 12, 31)) == dt.date(2100, 1, 1)
    assert next_month(dt.date(2024, 1, 31)) == dt.date(2024, 2, 1)
    assert month_end(dt.date(2024, 2, 1)) == dt.date(2024, 2, 29)
    assert month_end(LATEST_DATE.replace(day=1)) == LATEST_DATE


# --- Dates in words ------------------------------------------------------------------------

DAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("language", "words"),
    [("de", "1. Dezember 2026"), ("en", "1 December 2026"), ("tr", "1 Aralık 2026")],
)
def test_a_day_is_written_in_the_pages_language(language: str, words: str) -> None:
    assert format_day(DAY, language) == words


def test_a_language_babel_does_not_know_writes_german_rather_than_failing() -> None:
    assert format_day(DAY, "qq") == "1. Dezember 2026"


@pytest.mark.parametrize(
    ("first", "last", "language", "words"),
    [
        (DAY, DAY, "de", "1. Dezember 2026"),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 30), "de", "November 2026"),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 30), "en", "November 2026"),
        (dt.date(2026, 11, 2), dt.date(2026, 11, 30), "en", "2 November 2026 – 30 November 2026"),
        (dt.date(2026, 12, 30), dt.date(2027, 1, 2), "de", "30. Dezember 2026 – 2. Januar 2027"),
        (dt.date(2024, 2, 1), dt.date(2024, 2, 29), "en", "February 2024"),
    ],
)
def test_a_period_is_a_day_a_month_or_from_to(
    first: dt.date, last: dt.date, language: str, words: str
) -> None:
    assert format_period(first, last, language) == words


def test_elements_carry_iso_for_machines_and_words_for_people() -> None:
    assert str(day_element(DAY, "en")) == '<time datetime="2026-12-01">1 December 2026</time>'
    month = period_element(dt.date(2026, 11, 1), dt.date(2026, 11, 30), "de")
    assert str(month) == '<time datetime="2026-11">November 2026</time>'
    days = period_element(dt.date(2026, 11, 2), dt.date(2026, 11, 3), "de")
    assert str(days) == (
        '<time datetime="2026-11-02">2. November 2026</time> – '
        '<time datetime="2026-11-03">3. November 2026</time>'
    )


def test_a_moment_is_written_in_utc_to_the_minute() -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    moment = dt.datetime(2026, 12, 2, 0, 30, 59, tzinfo=berlin)
    assert format_moment(moment, "de") == "1. Dezember 2026, 23:30"
    assert format_moment(dt.datetime(2026, 12, 1, 9, 5), "en") == "1 December 2026, 09:05"


@pytest.mark.parametrize(
    ("path", "words"), [("/de/", "1. Dezember 2026"), ("/en/", "1 December 2026")]
)
def test_without_a_language_the_pages_language_is_used(app: Flask, path: str, words: str) -> None:
    with app.test_request_context(path):
        assert format_day(DAY) == words
    with app.app_context():  # no page: German, the source language
        assert format_day(DAY) == "1. Dezember 2026"


def test_templates_write_dates_through_the_filters(app: Flask) -> None:
    template = "{{ day|day }} / {{ first|period(last) }} / {{ day|day_text }}"
    with app.test_request_context("/en/"):
        shown = render_template_string(
            template, day=DAY, first=dt.date(2026, 11, 1), last=dt.date(2026, 11, 30)
        )
    assert shown == (
        '<time datetime="2026-12-01">1 December 2026</time> / '
        '<time datetime="2026-11">November 2026</time> / 1 December 2026'
    )
