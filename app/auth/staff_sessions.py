"""Staff logins held on the server: a cookie is worth only as long as its row exists.

The browser keeps a random token (inside Flask's signed session cookie); the database keeps its
SHA-256 with the account and the session's limits. Every staff request looks the row up, so
logout, the idle and absolute limits, "log out everywhere", a password reset, deactivation and
removal all end every copy of the cookie at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete

from app.extensions import db
from app.models import StaffSession, User

# A page view refreshes the idle clock at most this often, so reading stays (mostly) read-only.
TOUCH_INTERVAL = dt.timedelta(seconds=60)


def _row_id(token: str) -> str:
    return hashlib.sha256(b"meldeportal/staff-session\x00" + token.encode()).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def open_staff_session(user: User, *, now: dt.datetime, lifetime: dt.timedelta) -> str:
    """Start a login for ``user``; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(
            id=_row_id(token), user_id=user.id, created_at=now, last_seen_at=now,
            expires_at=now + lifetime,
        )
    )  # fmt: skip
    return token


def staff_of_session(token: str, *, now: dt.datetime, idle_timeout: dt.timedelta) -> User | None:
    """The active account of a live session; None (and the row ended) when it is over."""
    if not token:
        return None
    row = db.session.get(StaffSession, _row_id(token))
    if row is None:
        return None
    seen = _aware(row.last_seen_at)
    if now >= _aware(row.expires_at) or now - seen >= idle_timeout:
        db.session.delete(row)
        return None
    user = db.session.get(User, row.user_id)
    # A second factor not confirmed yet (a reset since this login began) admits nobody.
    if user is None or not user.active or user.totp_confirmed_on is None:
        return None
    if now - seen >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return user


def end_staff_session(token: str) -> None:
    if token:
        db.session.execute(delete(StaffSession).where(StaffSession.id == _row_id(token)))


def end_staff_sessions_of(user: User) -> None:
    """Every login of ``user``, on every device."""
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def purge_expired_staff_sessions(now: dt.datetime, idle_timeout: dt.timedelta) -> int:
    result = db.session.execute(
        delete(StaffSession).where(
            (StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= now - idle_timeout)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
