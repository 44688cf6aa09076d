"""Fifty staff logins at once, at production cost, under gunicorn's threads.

The defect this guards: two Argon2id derivations with several lanes at the same time in one
process never finish, so two simultaneous logins froze a worker for good and `/healthz` stopped
answering. Accounts sealed with four lanes (the old default) must still open.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from app import create_app
from app.crypto.kdf import DEFAULT_KDF, KdfParams
from app.crypto.keyring import unlock_with_recovery
from app.extensions import db
from app.models.user import MODERATOR
from app.moderation.accounts import create_user
from tests.gunicorn import (
    environment,
    get_status,
    gunicorn_serving,
    instance_environment,
    prepare_instance,
)
from tests.staff import confirmed_secret

PASSWORD = "ein langes Test-Passwort"
OLD_SLOTS = KdfParams(memory_kib=64 * 1024, iterations=3, lanes=4)
LOGINS = 50
ANSWER_TIMEOUT = 120  # seconds; a frozen worker never answers at all
# Fifty Argon2id derivations at production cost: alone, or they starve.
pytestmark = pytest.mark.serial


def _make_account(
    variables: dict[str, str], recovery: str, email: str, params: KdfParams
) -> list[str]:
    """An account with the given Argon2id cost; returns its recovery codes."""
    with environment(variables):
        app = create_app()
        with app.app_context():
            enrolment = create_user(
                email, MODERATOR, PASSWORD, today=dt.date.today(),
                params=params, unlocked=unlock_with_recovery(recovery),
                second_factor=confirmed_secret(),
            )  # fmt: skip
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    return enrolment.recovery_codes


def _log_in(base_url: str, email: str, password: str, code: str) -> int:
    with requests.Session() as browser:
        page = browser.get(f"{base_url}/moderation/login", timeout=ANSWER_TIMEOUT)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert match, page.text[:500]
        answer = browser.post(
            f"{base_url}/moderation/login",
            data={"csrf_token": match.group(1), "email": email, "password": password,
                  "code": code},
            allow_redirects=False, timeout=ANSWER_TIMEOUT,
        )  # fmt: skip
        return answer.status_code


def test_fifty_logins_at_once_are_answered_and_the_service_keeps_serving(
    tmp_path: Path,
) -> None:
    variables = instance_environment(
        tmp_path / "instance",
        LOGIN_RATE_LIMIT="1000 per minute",  # all clients share 127.0.0.1 here
        SESSION_COOKIE_SECURE="false",  # plain HTTP on loopback
    )
    recovery = prepare_instance(variables)
    for email, params in (("old@example.org", OLD_SLOTS), ("new@example.org", DEFAULT_KDF)):
        _make_account(variables, recovery, email, params)  # guessed at, below
    old = _make_account(variables, recovery, "old-holder@example.org", OLD_SLOTS)
    new = _make_account(variables, recovery, "new-holder@example.org", DEFAULT_KDF)
    attempts = (
        [(f"nobody-{n}@example.org", PASSWORD, "123456") for n in range(30)]
        + [("old@example.org", "wrong password!", "123456")] * 8
        + [("new@example.org", "wrong password!", "123456")] * 8
        + [("old-holder@example.org", PASSWORD, old[n]) for n in range(2)]
        + [("new-holder@example.org", PASSWORD, new[n]) for n in range(2)]
    )
    assert len(attempts) == LOGINS
    health: list[int] = []
    done = threading.Event()

    def watch_health(port: int) -> None:
        while not done.is_set():
            health.append(get_status(port, "/healthz", timeout=ANSWER_TIMEOUT))
            done.wait(0.5)

    with gunicorn_serving(variables, tmp_path / "gunicorn.log", WEB_CONCURRENCY="2") as port:
        base_url = f"http://127.0.0.1:{port}"
        watcher = threading.Thread(target=watch_health, args=(port,), daemon=True)
        watcher.start()
        with ThreadPoolExecutor(max_workers=LOGINS) as pool:
            answers = list(pool.map(lambda attempt: _log_in(base_url, *attempt), attempts))
        done.set()
        watcher.join(timeout=ANSWER_TIMEOUT)
        assert get_status(port, "/healthz") == 200  # still serving afterwards
    assert len(answers) == LOGINS
    assert answers[-4:] == [303] * 4, answers  # both the old and the new slots open
    assert set(answers[:-4]) <= {401, 429}, answers  # refused or asked to wait, never hung
    assert health
    assert set(health) == {200}
