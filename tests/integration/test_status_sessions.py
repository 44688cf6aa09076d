"""Status sessions: nothing in clear ties a visit to a report or dates it finer than the day.

On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Date, DateTime, Interval, LargeBinary, String, Time, func, select

from app.crypto import keyring
from app.extensions import db
from app.intake import followup
from app.models import StatusSession
from tests.factories import store_sample_report

SECRET = b"r" * 32
LIFETIME = dt.timedelta(hours=2)
DAY = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


@pytest.fixture
def keyed_app(db_app: Flask) -> Flask:
    with db_app.app_context():
        keyring.initialise_keys(DAY.date())
        db.session.commit()
    return db_app


def _count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(StatusSession)) or 0)


def _open(code: str, now: dt.datetime) -> followup.StatusTicket:
    ticket = followup.open_status(code, SECRET, now=now, lifetime=LIFETIME)
    assert ticket is not None
    db.session.flush()
    return ticket


def test_the_table_has_no_time_and_no_report_in_clear() -> None:
    table = StatusSession.__table__
    assert not table.foreign_keys
    for column in table.columns:
        assert not isinstance(column.type, DateTime | Time | Interval), column.name
        assert "report" not in column.name
    kinds = {column.name: type(column.type) for column in table.columns}
    assert kinds == {"id": String, "sealed_access": LargeBinary, "expires_on": Date}


def test_a_visit_late_in_the_day_looks_like_one_early_in_the_day(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        first = store_sample_report(SECRET)
        second = store_sample_report(SECRET)
        db.session.commit()
        early = _open(first.receipt.value, DAY.replace(hour=0, minute=1))
        late = _open(second.receipt.value, DAY.replace(hour=23, minute=59, second=59))
        rows = {row.id: row for row in db.session.scalars(select(StatusSession))}
        assert rows[early.session_id].expires_on == rows[late.session_id].expires_on
        assert len(rows[early.session_id].sealed_access) == len(rows[late.session_id].sealed_access)


def test_a_session_ends_at_its_exact_end_which_only_the_cookie_can_read(
    keyed_app: Flask,
) -> None:
    opened = DAY.replace(hour=23, minute=30, second=17, microsecond=5)
    with keyed_app.app_context():
        stored = store_sample_report(SECRET)
        db.session.commit()
        ticket = _open(stored.receipt.value, opened)
        last_moment = opened + LIFETIME - dt.timedelta(seconds=1)
        report, _ = followup.resume_status(ticket, now=last_moment)
        assert report.id == stored.report.id
        with pytest.raises(followup.StatusClosed):
            followup.resume_status(ticket, now=opened + LIFETIME)
        db.session.flush()
        assert _count() == 0  # an ended session is removed when it is next used


def test_a_wrong_secret_opens_nothing_and_ends_nothing(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        stored = store_sample_report(SECRET)
        db.session.commit()
        ticket = _open(stored.receipt.value, DAY)
        other = _open(stored.receipt.value, DAY)
        for wrong in ("", "not base64 !", other.secret):
            with pytest.raises(followup.StatusClosed):
                followup.resume_status(followup.StatusTicket(ticket.session_id, wrong), now=DAY)
        db.session.flush()
        assert _count() == 2
        followup.resume_status(ticket, now=DAY)


def test_ended_sessions_do_not_pile_up(keyed_app: Flask) -> None:
    """Every new session removes those whose last possible day has passed; so does the CLI."""
    with keyed_app.app_context():
        stored = store_sample_report(SECRET)
        db.session.commit()
        for days_ago in (9, 5, 2):
            for _ in range(20):
                _open(stored.receipt.value, DAY - dt.timedelta(days=days_ago, hours=1))
        assert _count() == 20  # each day's opening removed the earlier days' sessions
        yesterday_late = _open(stored.receipt.value, DAY - dt.timedelta(minutes=30))
        _open(stored.receipt.value, DAY + dt.timedelta(hours=1))
        # Yesterday's late session may still be live today (its last day is today): it stays.
        remaining = set(db.session.scalars(select(StatusSession.id)))
        assert len(remaining) == 2
        assert yesterday_late.session_id in remaining
        assert followup.purge_status_sessions(DAY.date() + dt.timedelta(days=2)) == 2
        assert _count() == 0


@given(
    opened=st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2040, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    lifetime=st.timedeltas(min_value=dt.timedelta(seconds=1), max_value=dt.timedelta(days=10)),
)
def test_no_session_is_removed_before_its_exact_end(
    opened: dt.datetime, lifetime: dt.timedelta
) -> None:
    """Removal by the day is safe: a session's last day is never before its exact end."""
    last_day = followup.last_live_day(opened.date(), lifetime)
    assert (opened + lifetime).date() <= last_day
    assert last_day - opened.date() <= lifetime + dt.timedelta(days=1)
