"""Staff accounts for tests: create them through the real service and log in with real TOTP."""

from __future__ import annotations

import base64
import datetime as dt
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from app.crypto import credentials
from app.crypto.kdf import KdfParams
from app.crypto.keyring import unlock_with_recovery
from app.extensions import db
from app.models.user import ADMIN, MODERATOR
from app.moderation.accounts import ConfirmedSecret, create_user

CHEAP = KdfParams(memory_kib=1024, iterations=1, lanes=1)
PASSWORD = "ein langes Test-Passwort"


@dataclass
class Staff:
    email: str
    role: str
    password: str
    secret: bytes
    recovery_codes: list[str]

    def code(self, at: float | None = None) -> str:
        return credentials.totp_code(
            self.secret, credentials.totp_step(time.time() if at is None else at)
        )


def make_staff(role: str, recovery_key: str | None, email: str | None = None) -> Staff:
    """Create and commit an account (inside an app context)."""
    email = email or f"{role}-{time.monotonic_ns()}@example.org"
    holds_keys = role in (ADMIN, MODERATOR) and recovery_key is not None
    unlocked = unlock_with_recovery(recovery_key or "") if holds_keys else None
    enrolment = create_user(
        email, role, PASSWORD, today=dt.date.today(), params=CHEAP, unlocked=unlocked,
        second_factor=confirmed_secret(),
    )  # fmt: skip
    db.session.commit()
    secret = secret_of(enrolment.provisioning_uri)
    return Staff(email, role, PASSWORD, secret, enrolment.recovery_codes)


def confirmed_secret() -> ConfirmedSecret:
    """A new second factor confirmed with the code of two steps ago, so that the test's own
    logins (with the current code) are not refused as a reused code."""
    secret = credentials.new_totp_secret()
    now = time.time()
    step = credentials.totp_step(now) - 2
    return ConfirmedSecret(secret, step)


def secret_of(provisioning_uri: str) -> bytes:
    query = parse_qs(urlsplit(provisioning_uri).query)
    return base64.b32decode(query["secret"][0] + "=" * (-len(query["secret"][0]) % 8))
