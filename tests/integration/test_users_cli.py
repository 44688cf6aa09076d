"""`flask users create`: the password is checked first, the QR code is shown in the terminal,
one current code confirms the second factor before anything is written."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit import AuditTag
from app.crypto import credentials, keyring
from app.extensions import db
from app.models import AuditEvent, KeySlot, User
from app.moderation.accounts import LoginRefused, authenticate
from tests.staff import CHEAP, PASSWORD

SECRET = bytes(range(20))
SECRET_TEXT = "AAAQ EAYE AUDA OCAJ BIFQ YDIO B4IB CEQT"


@pytest.fixture
def recovery(db_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # A known secret, so the test can type the code an app would show for it.
    monkeypatch.setattr(credentials, "new_totp_secret", lambda: SECRET)
    with db_app.app_context():
        code = keyring.initialise_keys(dt.date(2026, 11, 26))
        db.session.commit()
        yield code


def current_code() -> str:
    return credentials.totp_code(SECRET, credentials.totp_step(time.time()))


def wrong_code() -> str:
    """A code that no step within the allowed drift gives."""
    step = credentials.totp_step(time.time())
    near = {credentials.totp_code(SECRET, step + delta) for delta in range(-3, 4)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


def accounts() -> int:
    return int(db.session.scalar(select(func.count(User.id))) or 0)


def test_the_qr_code_the_key_and_one_code_confirm_the_account(db_app: Flask, recovery: str) -> None:
    runner = db_app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "--email", "Ayse@Example.org", "--role", "moderator"],
        input=f"{PASSWORD}\n{recovery}\n{wrong_code()}\n{current_code()}\n",
    )
    assert result.exit_code == 0, result.output
    out = result.output
    # The order of the questions: password, recovery key, then the second factor.
    prompts = ("Password for ayse@example.org", "Recovery key", "scan the QR", "Code the app")
    order = [out.index(text) for text in prompts]
    assert order == sorted(order)
    assert out.count("Code the app shows now") == 2  # a wrong code is asked again
    assert "Refused: This code does not fit" in out
    # The QR code: rows of half blocks in the terminal, between the prompts.
    qr_rows = [line for line in out.splitlines() if re.fullmatch(r"[█▀▄ ]{40,}", line)]
    assert len(qr_rows) >= 20
    assert SECRET_TEXT in out
    assert "otpauth://totp/Meldeportal:ayse%40example.org?" in out
    assert "secret=" + SECRET_TEXT.replace(" ", "") in out
    codes = [
        line for line in out.splitlines() if re.fullmatch(r"\s+([0-9A-Z]{4}-){3}[0-9A-Z]{4}", line)
    ]
    assert len(codes) == 10
    assert out.index("Code the app shows now") < out.index(codes[0].strip())

    user = db.session.scalars(select(User).where(User.email == "ayse@example.org")).one()
    assert user.totp_confirmed_on == dt.datetime.now(dt.UTC).date()
    assert user.totp_enrolment_key is None
    assert "ayse@example.org" in set(db.session.scalars(select(KeySlot.holder)))
    confirmations = db.session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.ACCOUNT_CONFIRM_SECOND_FACTOR.value)
    ).all()
    assert [event.target_id for event in confirmations] == [user.id]
    # The code typed to confirm is used up: the same one cannot log in.
    with pytest.raises(LoginRefused):
        authenticate("ayse@example.org", PASSWORD, current_code(), params=CHEAP)


def test_a_weak_password_is_refused_before_the_recovery_key_is_asked(
    db_app: Flask, recovery: str
) -> None:
    runner = db_app.test_cli_runner()
    for password, words in [
        ("short", "too short: it needs at least 12 characters"),
        ("ayse@example.org", "must not be or contain the e-mail address"),
        ("password1234", "list of common passwords"),
        ("aaaaaaaaaaaaaaaa", "too few characters"),
    ]:
        result = runner.invoke(
            args=["users", "create", "--email", "ayse@example.org", "--role", "admin"],
            input=f"{password}\n{recovery}\n",
        )
        assert result.exit_code == 1, result.output
        assert words in result.output
        assert "Recovery key" not in result.output
        assert "QR" not in result.output
    assert accounts() == 0


def test_an_interrupted_command_leaves_no_account(db_app: Flask, recovery: str) -> None:
    runner = db_app.test_cli_runner()
    # The input ends where the person would press Ctrl-C: at the code prompt.
    stopped = runner.invoke(
        args=["users", "create", "--email", "r@example.org", "--role", "researcher"],
        input=f"{PASSWORD}\n{wrong_code()}\n",
    )
    assert stopped.exit_code == 1
    assert "Aborted" in stopped.output
    assert accounts() == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.tag.startswith("account:"))) == 0  # fmt: skip
    # The same address can be created afterwards: nothing half-made is in the way.
    again = runner.invoke(
        args=["users", "create", "--email", "r@example.org", "--role", "researcher"],
        input=f"{PASSWORD}\n{current_code()}\n",
    )
    assert again.exit_code == 0, again.output
    assert accounts() == 1


def test_a_taken_address_and_a_wrong_recovery_key_are_refused_early(
    db_app: Flask, recovery: str
) -> None:
    runner = db_app.test_cli_runner()
    first = runner.invoke(
        args=["users", "create", "--email", "w@example.org", "--role", "researcher"],
        input=f"{PASSWORD}\n{current_code()}\n",
    )
    assert first.exit_code == 0, first.output
    taken = runner.invoke(
        args=["users", "create", "--email", "W@example.org", "--role", "researcher"],
        input=f"{PASSWORD}\n",
    )
    assert taken.exit_code == 1
    assert "exists" in taken.output
    assert "Password" not in taken.output  # refused before anything is asked
    wrong_key = runner.invoke(
        args=["users", "create", "--email", "k@example.org", "--role", "admin"],
        input=f"{PASSWORD}\nNOT-THE-KEY\n",
    )
    assert wrong_key.exit_code == 1
    assert "recovery key" in wrong_key.output
    assert "QR" not in wrong_key.output
