"""What the status page tells a reporter about the deletion of their personal data."""

from __future__ import annotations

import datetime as dt

import pytest

from app.models import Report
from app.retention import RetentionOutlook, retention_outlook

TODAY = dt.date(2026, 12, 1)


def report(*, deadline: dt.date | None = None, requested: dt.date | None = None) -> Report:
    return Report(retention_deadline=deadline, deletion_requested_on=requested)


def test_an_open_case_is_kept_at_least_the_retention_days_from_today() -> None:
    assert retention_outlook(report(), TODAY, 180) == RetentionOutlook(
        "after_close", dt.date(2027, 5, 30), 180
    )
    assert retention_outlook(report(), TODAY, 30).day == dt.date(2026, 12, 31)


def test_a_closed_case_is_deleted_on_its_deadline() -> None:
    deadline = dt.date(2027, 3, 1)
    assert retention_outlook(report(deadline=deadline), TODAY, 180) == RetentionOutlook(
        "on_day", deadline
    )


@pytest.mark.parametrize("deadline", [TODAY, TODAY - dt.timedelta(days=3)])
def test_a_deadline_that_has_come_is_due_for_the_next_purge(deadline: dt.date) -> None:
    outlook = retention_outlook(report(deadline=deadline, requested=deadline), TODAY, 180)
    assert outlook == RetentionOutlook("due")


def test_a_request_not_yet_honoured_is_named_as_such() -> None:
    assert retention_outlook(report(requested=TODAY), TODAY, 180) == RetentionOutlook("requested")


def test_a_request_on_a_closed_case_keeps_the_closing_deadline_until_honoured() -> None:
    deadline = dt.date(2027, 1, 15)
    outlook = retention_outlook(report(deadline=deadline, requested=TODAY), TODAY, 180)
    assert outlook == RetentionOutlook("on_day", deadline)
