"""One staff login attempt: take a turn, wait for it, check the credentials, count the outcome.

The one place outside the request's end that commits, twice and on purpose: the turn must be
visible to every other worker before this request waits for it (and no write lock may be held
while it waits or while Argon2id runs), and a failure's audit event must stay although the
request answers 401, which rolls back.
"""

from __future__ import annotations

import datetime as dt
from time import sleep

from app.crypto.kdf import KdfParams
from app.extensions import db
from app.models import User
from app.moderation.accounts import LoginRefused, authenticate
from app.moderation.throttle import record_success, reserve_attempt, throttle_key


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_login(
    email: str,
    password: str,
    code: str,
    *,
    secret: bytes,
    known_device: bool,
    params: KdfParams,
) -> User:
    """The account for these credentials.

    ``known_device``: the browser carries a device cookie for this address and skips the queue.

    Raises:
        TooManyAttempts: the queue for this address is too long now (known or unknown alike).
        KdfBusy: too many password checks are waiting in this process.
        LoginRefused: wrong e-mail, password or code, with no hint which.
    """
    key = throttle_key(email, secret)
    if not known_device:
        wait = reserve_attempt(key, now=_now())
        db.session.commit()
        sleep(wait.total_seconds())
    try:
        # One clock for the turn and the code, read after the wait the turn cost.
        user = authenticate(email, password, code, params=params, now=_now())
    except LoginRefused:
        db.session.commit()  # the failure's audit event stays, although the answer is a 401
        raise
    record_success(key)
    return user
