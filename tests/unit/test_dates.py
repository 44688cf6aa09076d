"""The one range of dates the service reads, and the arithmetic that stays inside it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app.dates import (
    DATE_PATTERN,
    EARLIEST_DATE,
    LATEST_DATE,
    MONTH_PATTERN,
    YEAR_PATTERN,
    iso_date,
    iso_month,
    iso_year,
    month_end,
    next_month,
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
