"""Throttling staff logins without a lockout: the holder always gets in; nothing tells accounts
from unknown addresses, neither the answer nor the work done for it.

Waiting is real in production (``time.sleep``); here a fake clock stands in for it, so the tests
see every wait the server would make without spending it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.crypto import kdf
from app.extensions import db
from app.models import AuditEvent, LoginThrottle
from app.models.user import MODERATOR
from app.moderation import login as login_module
from app.moderation import throttle
from tests.functional.conftest import hidden_value
from tests.staff import Staff, make_staff


@dataclass
class FakeClock:
    # An hour ahead of the wall: a step that read the wall's clock instead would fail every time.
    now: dt.datetime = field(
        default_factory=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )
    waits: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += dt.timedelta(seconds=seconds)

    def at(self) -> float:
        """The moment for a TOTP code: the server reads this clock, not the wall's."""
        return self.now.timestamp()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(login_module, "_now", lambda: fake.now)
    monkeypatch.setattr(login_module, "sleep", fake.sleep)
    return fake


@pytest.fixture
def moderator(intake_app: Flask) -> Staff:
    with intake_app.app_context():
        return make_staff(MODERATOR, intake_app.config["TEST_RECOVERY_KEY"])


def attempt(client: FlaskClient, email: str, password: str, code: str) -> Any:
    csrf = hidden_value(client.get("/moderation/login").get_data(as_text=True), "csrf_token")
    data = {"csrf_token": csrf, "email": email, "password": password, "code": code}
    return client.post("/moderation/login", data=data)


def page_text(response: Any) -> str:
    """The page without its per-request CSRF token."""
    return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))


def test_many_failures_slow_an_attacker_but_the_holder_still_gets_in(
    intake_app: Flask, moderator: Staff, clock: FakeClock
) -> None:
    """The reproducer: five wrong passwords locked the holder out for 15 minutes."""
    attacker, holder = intake_app.test_client(), intake_app.test_client()
    for _ in range(12):  # one client, one after the other: each waits its turn
        assert attempt(attacker, moderator.email, "wrong password!", "123456").status_code == 401
    assert clock.waits[: throttle.FREE_ATTEMPTS] == [0.0] * throttle.FREE_ATTEMPTS
    assert max(clock.waits) == throttle.MAX_DELAY.total_seconds()  # 1, 2, 4, 8, 8, … seconds
    assert sum(clock.waits) > 40  # twelve guesses cost the attacker most of a minute
    # The holder, from a browser that never logged in before, waits one turn at most.
    waited = len(clock.waits)
    assert (
        attempt(holder, moderator.email, moderator.password, moderator.code(clock.at())).status_code
        == 303
    )
    assert clock.waits[waited:] == [throttle.MAX_DELAY.total_seconds()]
    assert holder.get("/moderation/").status_code == 200


def test_a_flood_is_turned_away_but_never_the_holders_own_browser(
    intake_app: Flask, moderator: Staff, clock: FakeClock
) -> None:
    holder = intake_app.test_client()
    assert (
        attempt(holder, moderator.email, moderator.password, moderator.code(clock.at())).status_code
        == 303
    )
    assert holder.get_cookie(throttle.DEVICE_COOKIE, path="/moderation") is not None
    csrf = hidden_value(holder.get("/moderation/").get_data(as_text=True), "csrf_token")
    holder.post("/moderation/logout", data={"csrf_token": csrf})
    with intake_app.app_context():  # attempts from many clients at once: the queue fills up
        key = throttle.throttle_key(moderator.email, intake_app.config["SECRET_KEY"].encode())
        row = db.session.get(LoginThrottle, key)
        assert row is not None
        row.attempts = 20
        row.next_attempt_at = clock.now + dt.timedelta(minutes=5)
        db.session.commit()
    stranger = intake_app.test_client()
    turned_away = attempt(stranger, moderator.email, moderator.password, moderator.code(clock.at()))
    assert turned_away.status_code == 429
    assert "eine Minute" in turned_away.get_data(as_text=True)
    # The holder's own browser carries its device cookie and skips the queue.
    clock.now += dt.timedelta(seconds=31)  # the first login's code is spent; take the next
    assert (
        attempt(holder, moderator.email, moderator.password, moderator.code(clock.at())).status_code
        == 303
    )


def test_a_device_cookie_is_bound_to_its_address(app: Flask) -> None:
    secret = b"s" * 32
    cookie = throttle.issue_device_cookie("Mira@Example.org", secret)
    assert throttle.is_known_device(cookie, "mira@example.org ", secret)
    assert not throttle.is_known_device(cookie, "other@example.org", secret)
    assert not throttle.is_known_device(cookie, "mira@example.org", b"t" * 32)
    for forged in ("", "%%%", cookie[:-4], "A" * 64):
        assert not throttle.is_known_device(forged, "mira@example.org", secret)


def test_unknown_addresses_get_the_same_answer_and_the_same_work(
    intake_app: Flask, moderator: Staff, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    derivations: list[kdf.KdfParams] = []
    real_derive = kdf.derive_from_password

    def counting(password: str, salt: bytes, params: kdf.KdfParams, length: int) -> bytes:
        derivations.append(params)
        return real_derive(password, salt, params, length)

    monkeypatch.setattr("app.crypto.credentials.derive_from_password", counting)
    # The account's own cost is the cost of new passwords, as in production.
    intake_app.config.update(SLOT_KDF_MEMORY_KIB=1024, SLOT_KDF_ITERATIONS=1, SLOT_KDF_LANES=1)
    answers: dict[str, list[tuple[int, str]]] = {}
    for email in (moderator.email, "nobody@example.org"):
        client = intake_app.test_client()
        answers[email] = []
        for _ in range(8):  # past the free failures and into the queue
            response = attempt(client, email, "wrong password!", "123456")
            answers[email].append((response.status_code, page_text(response)))
    known, unknown = answers[moderator.email], answers["nobody@example.org"]
    assert [status for status, _ in known] == [status for status, _ in unknown]
    assert [text.replace(moderator.email, "nobody@example.org") for _, text in known] == [
        text for _, text in unknown
    ]
    assert derivations == [derivations[0]] * 16  # one derivation per attempt, same cost
    assert clock.waits[:8] == clock.waits[8:]  # the same queue for both
    with intake_app.app_context():
        failures = db.session.scalars(
            select(AuditEvent.target_id).where(AuditEvent.tag == "login:failure")
        ).all()
        assert len(failures) == 16
        assert len(db.session.scalars(select(LoginThrottle)).all()) == 2


def test_old_failures_are_forgotten_and_purged(intake_app: Flask, moderator: Staff) -> None:
    now = dt.datetime.now(dt.UTC)
    with intake_app.app_context():
        key = throttle.throttle_key(moderator.email, b"k" * 32)
        waits = [throttle.reserve_attempt(key, now=now) for _ in range(6)]
        db.session.commit()
        assert [wait.total_seconds() for wait in waits] == [0, 0, 0, 0, 1, 3]
        later = now + throttle.WINDOW + dt.timedelta(seconds=1)
        assert throttle.reserve_attempt(key, now=later) == dt.timedelta(0)
        db.session.commit()
        assert throttle.purge_old_throttles(later + throttle.WINDOW + dt.timedelta(seconds=1)) == 1
