"""Slowing down password guessing without locking anyone out (OWASP, "Blocking brute force").

Three layers, none of which can shut a holder out of their own account:

- per client: the login's rate limit (Flask-Limiter on a keyed hash of the address);
- per typed address: after a few attempts without a success, attempts for that address queue
  behind each other, each one a growing delay after the last (1, 2, 4, up to 8 seconds). An
  attempt counts when it takes its turn, not when it has failed, so attempts sent in parallel
  queue just like attempts sent one after the other. An attempt is always
  checked when its turn comes, so the right password and code always get in; only when the queue
  is longer than ``MAX_WAIT`` (a flood from many clients) is an attempt turned away, to try again
  a minute later. Unknown addresses are throttled exactly like accounts, so neither the answer
  nor its timing tells which accounts exist;
- per device: a browser that has logged in to an account before carries a *device cookie* for it
  (OWASP, "Slow down online guessing attacks with device cookies") and skips the queue, so even a
  flood from many addresses cannot keep the holder's own browser out.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import LoginThrottle

FREE_ATTEMPTS = 3  # typos: no delay for the first few attempts
MAX_DELAY = dt.timedelta(seconds=8)
MAX_WAIT = dt.timedelta(seconds=10)
WINDOW = dt.timedelta(minutes=15)  # attempts older than this are forgotten
DEVICE_COOKIE = "meldeportal_device"
DEVICE_COOKIE_DAYS = 180


class TooManyAttempts(Exception):
    """The queue for this address is longer than ``MAX_WAIT``: try again in a minute."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def throttle_key(email: str, secret: bytes) -> str:
    """The keyed hash under which attempts for a typed address are counted."""
    return hmac.new(
        secret, b"meldeportal/login\x00" + normalise_email(email).encode(), hashlib.sha256
    ).hexdigest()


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def delay_after(attempts: int) -> dt.timedelta:
    """The gap between the turn of attempt number ``attempts`` (from 1) and the next one."""
    if attempts <= FREE_ATTEMPTS:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** (attempts - FREE_ATTEMPTS - 1)), MAX_DELAY)


def _insert_if_missing(key: str, now: dt.datetime) -> None:
    """The row for ``key``; on SQLite this first write also takes the database's write lock, so
    the read that follows is atomic with the update, as ``FOR UPDATE`` makes it on PostgreSQL."""
    insert = (
        postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    db.session.execute(
        insert(LoginThrottle)
        .values(key=key, attempts=0, window_started_at=now, next_attempt_at=None)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def reserve_attempt(key: str, *, now: dt.datetime) -> dt.timedelta:
    """Take the next turn for ``key``; returns how long to wait for it.

    The caller commits at once (so other workers see the reservation) and waits outside any
    transaction.

    Raises:
        TooManyAttempts: when the turn is further away than ``MAX_WAIT``.
    """
    _insert_if_missing(key, now)
    row = db.session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    window_start = _aware(row.window_started_at)
    if window_start is None or now - window_start > WINDOW:
        row.attempts, row.window_started_at = 0, now
    turn = max(now, _aware(row.next_attempt_at) or now)
    if turn - now > MAX_WAIT:
        raise TooManyAttempts
    row.attempts += 1
    row.next_attempt_at = turn + delay_after(row.attempts)
    return turn - now


def record_success(key: str) -> None:
    """The holder got in: the attempts before (their own typos) are forgotten."""
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(attempts=0)
        .execution_options(synchronize_session=False)
    )


def purge_old_throttles(now: dt.datetime) -> int:
    result = db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_started_at <= now - WINDOW)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- Device cookies -----------------------------------------------------------------------------


def _device_mac(email: str, nonce: bytes, secret: bytes) -> bytes:
    message = b"meldeportal/device\x00" + normalise_email(email).encode() + b"\x00" + nonce
    return hmac.new(secret, message, hashlib.sha256).digest()


def issue_device_cookie(email: str, secret: bytes) -> str:
    """A value that marks this browser as one that logged in to ``email`` before."""
    nonce = secrets.token_bytes(16)
    return base64.urlsafe_b64encode(nonce + _device_mac(email, nonce, secret)).decode()


def is_known_device(cookie: str | None, email: str, secret: bytes) -> bool:
    if not cookie:
        return False
    try:
        raw = base64.urlsafe_b64decode(cookie.encode())
    except (ValueError, TypeError):
        return False
    nonce, mac = raw[:16], raw[16:]
    return len(raw) == 48 and hmac.compare_digest(mac, _device_mac(email, nonce, secret))
