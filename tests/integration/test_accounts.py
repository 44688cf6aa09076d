"""Staff accounts: passwords, TOTP without reuse, recovery codes, no lockout, slots, last admin."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from sqlalchemy import select

from app.auth.staff_sessions import open_staff_session, staff_of_session
from app.crypto import credentials, keyring
from app.crypto.kdf import KdfParams
from app.extensions import db
from app.models import AuditEvent, KeySlot, RecoveryCode, StaffSession, User
from app.models.user import ADMIN, MODERATOR, RESEARCHER
from app.moderation.accounts import (
    AccountError,
    LastAdmin,
    LoginRefused,
    WeakPassword,
    authenticate,
    check_password_strength,
    create_user,
    log_out_everywhere,
    remove_user,
)
from tests.staff import CHEAP, PASSWORD, make_staff


@pytest.fixture
def recovery(db_app: Flask) -> Iterator[str]:
    with db_app.app_context():
        code = keyring.initialise_keys(dt.date(2026, 11, 26))
        db.session.commit()
        yield code


def tags() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.tag)))


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "too_short"),
        ("elf Zeichen", "too_short"),
        ("x" * 129, "too_long"),
        ("mira@example.org", "email"),
        ("MIRA@EXAMPLE.ORG 2026", "email"),
        ("mira.example-Mira!", "email_name"),
        ("aaaaaaaaaaaaaaaa", "too_few_characters"),
        ("abab abab abab", "too_few_characters"),
        ("password1234", "common"),
        ("Passwort1234", "common"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule_they_broke(password: str, rule: str) -> None:
    with pytest.raises(WeakPassword) as weak:
        check_password_strength(password, "mira@example.org")
    assert weak.value.rule == rule


def test_login_needs_password_and_a_fresh_totp_code(recovery: str) -> None:
    staff = make_staff(MODERATOR, recovery)
    now = dt.datetime.now(dt.UTC)
    user = authenticate(
        staff.email.upper(), staff.password, staff.code(now.timestamp()), now=now, params=CHEAP
    )
    assert user.email == staff.email
    with pytest.raises(LoginRefused):  # the same code twice: refused
        authenticate(
            staff.email, staff.password, staff.code(now.timestamp()), now=now, params=CHEAP
        )
    later = now + dt.timedelta(seconds=60)
    assert authenticate(
        staff.email, staff.password, staff.code(later.timestamp()), now=later, params=CHEAP
    )
    for password, code in ((staff.password, "000000"), ("wrong password!", staff.code()),
                           (staff.password, "")):  # fmt: skip
        with pytest.raises(LoginRefused):
            authenticate(staff.email, password, code, params=CHEAP)
    with pytest.raises(LoginRefused):
        authenticate("nobody@example.org", staff.password, staff.code(), params=CHEAP)
    assert "login:success" in tags()
    assert "login:failure" in tags()


def test_totp_secret_is_sealed_under_the_password(recovery: str) -> None:
    staff = make_staff(RESEARCHER, recovery)
    user = db.session.scalars(select(User).where(User.email == staff.email)).one()
    assert staff.secret not in user.sealed_totp_secret
    assert staff.secret.hex().encode() not in user.sealed_totp_secret


def test_each_recovery_code_works_once(recovery: str) -> None:
    staff = make_staff(ADMIN, recovery)
    code = staff.recovery_codes[0]
    assert authenticate(staff.email, staff.password, code.lower().replace("-", " "), params=CHEAP)
    with pytest.raises(LoginRefused):
        authenticate(staff.email, staff.password, code, params=CHEAP)
    left = db.session.scalars(select(RecoveryCode)).all()
    assert len(left) == len(staff.recovery_codes) - 1
    assert "recovery_code:use" in tags()


def test_failures_never_lock_the_account(recovery: str) -> None:
    """Anyone can type a wrong password: the holder's right one must still work at once."""
    staff = make_staff(MODERATOR, recovery)
    now = dt.datetime.now(dt.UTC)
    for _ in range(20):
        with pytest.raises(LoginRefused):
            authenticate(staff.email, "wrong password!", "123456", now=now, params=CHEAP)
    assert authenticate(
        staff.email, staff.password, staff.code(now.timestamp()), now=now, params=CHEAP
    )
    assert tags().count("login:failure") == 20


def test_an_unknown_address_writes_the_same_failure_event(recovery: str) -> None:
    with pytest.raises(LoginRefused):
        authenticate("nobody@example.org", PASSWORD, "123456", params=CHEAP)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.tag.startswith("login:"))).one()
    assert (event.tag, event.target_type, event.target_id) == ("login:failure", "user", None)


def test_key_holders_get_a_slot_researchers_never(recovery: str) -> None:
    moderator = make_staff(MODERATOR, recovery)
    researcher = make_staff(RESEARCHER, recovery)
    slots = {slot.holder: slot for slot in db.session.scalars(select(KeySlot))}
    assert moderator.email in slots
    assert researcher.email not in slots
    assert keyring.unlock_with_password(slots[moderator.email], PASSWORD)
    with pytest.raises(AccountError):
        create_user("x@example.org", MODERATOR, PASSWORD, today=dt.date.today(), params=CHEAP)
    with pytest.raises(AccountError):
        create_user(moderator.email, RESEARCHER, PASSWORD, today=dt.date.today(), params=CHEAP)
    with pytest.raises(AccountError):
        create_user("y@example.org", "owner", PASSWORD, today=dt.date.today(), params=CHEAP)


def test_removing_accounts_keeps_slots_right_and_the_last_admin(recovery: str) -> None:
    admin = make_staff(ADMIN, recovery)
    moderator = make_staff(MODERATOR, recovery)
    by_email = {u.email: u for u in db.session.scalars(select(User))}
    remove_user(by_email[moderator.email], actor_id=by_email[admin.email].id)
    db.session.commit()
    holders = set(db.session.scalars(select(KeySlot.holder)))
    assert moderator.email not in holders  # the slot went with the account
    with pytest.raises(LastAdmin):
        remove_user(by_email[admin.email], actor_id=by_email[admin.email].id)


def test_log_out_everywhere_ends_every_session_of_the_account(recovery: str) -> None:
    staff = make_staff(MODERATOR, recovery)
    other = make_staff(RESEARCHER, recovery)
    user = db.session.scalars(select(User).where(User.email == staff.email)).one()
    other_user = db.session.scalars(select(User).where(User.email == other.email)).one()
    now = dt.datetime.now(dt.UTC)
    hours, idle = dt.timedelta(hours=12), dt.timedelta(minutes=30)
    tokens = [open_staff_session(user, now=now, lifetime=hours) for _ in range(3)]
    kept = open_staff_session(other_user, now=now, lifetime=hours)
    assert all(staff_of_session(token, now=now, idle_timeout=idle) == user for token in tokens)
    log_out_everywhere(user)
    assert all(staff_of_session(token, now=now, idle_timeout=idle) is None for token in tokens)
    assert staff_of_session(kept, now=now, idle_timeout=idle) == other_user
    stored = set(db.session.scalars(select(StaffSession.id)))
    assert not any(token in stored for token in [*tokens, kept])  # only hashes are stored


def test_a_staff_session_ends_when_idle_or_expired(recovery: str) -> None:
    staff = make_staff(RESEARCHER, recovery)
    user = db.session.scalars(select(User).where(User.email == staff.email)).one()
    now = dt.datetime.now(dt.UTC)
    idle = dt.timedelta(minutes=30)
    token = open_staff_session(user, now=now, lifetime=dt.timedelta(hours=1))
    assert staff_of_session(token, now=now + dt.timedelta(minutes=29), idle_timeout=idle) == user
    # used at 29 minutes: alive at 58, then past the absolute hour
    assert staff_of_session(token, now=now + dt.timedelta(minutes=58), idle_timeout=idle) == user
    assert staff_of_session(token, now=now + dt.timedelta(minutes=61), idle_timeout=idle) is None
    assert db.session.scalars(select(StaffSession)).all() == []
    idler = open_staff_session(user, now=now, lifetime=dt.timedelta(hours=12))
    assert staff_of_session(idler, now=now + dt.timedelta(minutes=31), idle_timeout=idle) is None
    assert staff_of_session("", now=now, idle_timeout=idle) is None
    assert staff_of_session("forged", now=now, idle_timeout=idle) is None


def test_a_totp_secret_sealed_before_versions_opens_and_is_sealed_anew(recovery: str) -> None:
    staff = make_staff(MODERATOR, recovery)
    user = db.session.scalars(select(User).where(User.email == staff.email)).one()
    key = credentials.derive_login_secrets(
        staff.password, user.password_salt, KdfParams.from_dict(user.password_params)
    ).totp_key
    nonce = os.urandom(12)
    aad = b"meldeportal/totp\x00" + staff.email.encode()
    user.sealed_totp_secret = nonce + AESGCM(key).encrypt(nonce, staff.secret, aad)
    db.session.commit()
    now = dt.datetime.now(dt.UTC)
    assert authenticate(
        staff.email, staff.password, staff.code(now.timestamp()), now=now, params=CHEAP
    )
    resealed = user.sealed_totp_secret
    assert resealed[0] == credentials.TOTP_V1
    assert credentials.open_totp_secret(resealed, key, staff.email) == staff.secret
