"""The organisation key in the database: init, slots, unlocking, rotation, recovery, sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.crypto import keyring
from app.crypto.errors import (
    KeysAlreadyInitialised,
    KeysNotInitialised,
    SealError,
    SessionLocked,
    WrongPassword,
)
from app.crypto.kdf import KdfParams
from app.crypto.receipts import unwrap_with_receipt
from app.crypto.reports import (
    mailbox_key_for_reporter,
    mailbox_key_for_staff,
    open_message,
    open_report,
    seal_message,
)
from app.crypto.sessions import (
    SessionTicket,
    end_session,
    end_sessions_of_slot,
    open_unlocked_session,
    purge_expired_sessions,
    session_keys,
)
from app.extensions import db
from app.intake.services import find_report
from app.models import AuditEvent, KeyGrant, KeySlot, OrgKey, Report, SessionKey
from tests.factories import store_sample_report

TODAY = dt.date(2026, 11, 26)
CHEAP = KdfParams(memory_kib=1024, iterations=1, lanes=1)
RECEIPT_SECRET = b"r" * 32
PASSWORD = "correct horse battery staple"


@pytest.fixture
def ctx(db_app: Flask) -> Iterator[Flask]:
    with db_app.app_context():
        yield db_app
        db.session.rollback()


@pytest.fixture
def recovery(ctx: Flask) -> str:
    code = keyring.initialise_keys(TODAY)
    db.session.commit()
    return code


def add_holder(recovery: str, holder: str, password: str = PASSWORD) -> KeySlot:
    unlocked = keyring.unlock_with_recovery(recovery)
    slot = keyring.add_password_slot(holder, password, unlocked, today=TODAY, params=CHEAP)
    db.session.commit()
    return slot


def submit(text: str = "Beschreibung") -> tuple[Report, str]:
    stored = store_sample_report(RECEIPT_SECRET, description=text)
    db.session.commit()
    return stored.report, stored.receipt.display


def tags() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def test_nothing_can_be_sealed_before_init(ctx: Flask) -> None:
    assert not keyring.keys_initialised()
    with pytest.raises(KeysNotInitialised):
        submit()


def test_init_creates_key_and_recovery_slot_once(recovery: str) -> None:
    status = keyring.key_status()
    assert status.fingerprint
    assert [(slot.kind, slot.holds_active_key) for slot in status.slots] == [("recovery", True)]
    assert any("Only 0 people hold" in warning for warning in status.warnings)
    assert tags() == ["org_key:init"]
    with pytest.raises(KeysAlreadyInitialised):
        keyring.initialise_keys(TODAY)
    # The recovery key itself is never stored: only its public half is.
    slot = db.session.scalars(select(KeySlot)).one()
    assert slot.sealed_private_key is None


def test_reports_open_with_recovery_key_and_with_a_holders_password(recovery: str) -> None:
    slot = add_holder(recovery, "ayse@example.org")
    report, _ = submit("Sie wurde im Bus beschimpft.")
    for unlocked in (
        keyring.unlock_with_recovery(recovery),
        keyring.unlock_with_password(slot, PASSWORD),
    ):
        opened = open_report(report, unlocked)
        assert opened.fields["description"] == "Sie wurde im Bus beschimpft."
    with pytest.raises(WrongPassword):
        keyring.unlock_with_password(slot, "wrong password!")
    with pytest.raises(WrongPassword):
        keyring.unlock_with_recovery("A" * 52)


def test_two_holders_silence_the_warning(recovery: str) -> None:
    add_holder(recovery, "one@example.org")
    assert any("Only 1 person" in w for w in keyring.key_status().warnings)
    add_holder(recovery, "two@example.org")
    assert keyring.key_status().warnings == []


def test_password_change_rewraps_only_that_slot(recovery: str) -> None:
    mine, other = add_holder(recovery, "me@example.org"), add_holder(recovery, "you@example.org")
    other_before = (other.sealed_private_key, other.kdf_salt)
    grants_before = {g.id: g.wrapped_private_key for g in db.session.scalars(select(KeyGrant))}
    keyring.change_slot_password(mine, PASSWORD, "a new long passphrase", params=CHEAP)
    db.session.commit()
    assert (other.sealed_private_key, other.kdf_salt) == other_before
    grants_after = {g.id: g.wrapped_private_key for g in db.session.scalars(select(KeyGrant))}
    assert grants_after == grants_before
    report, _ = submit()
    assert open_report(report, keyring.unlock_with_password(mine, "a new long passphrase"))
    with pytest.raises(WrongPassword):
        keyring.unlock_with_password(mine, PASSWORD)
    with pytest.raises(WrongPassword):
        keyring.change_slot_password(mine, PASSWORD, "x" * 20, params=CHEAP)


def test_kdf_parameters_are_stored_with_the_slot(recovery: str) -> None:
    slot = add_holder(recovery, "kdf@example.org")
    assert slot.kdf_params == {"algorithm": "argon2id", "memory_kib": 1024, "iterations": 1,
                               "lanes": 1}  # fmt: skip
    keyring.change_slot_password(slot, PASSWORD, PASSWORD, params=KdfParams(2048, 2, 1))
    db.session.commit()
    assert slot.kdf_params is not None
    assert slot.kdf_params["memory_kib"] == 2048
    assert keyring.unlock_with_password(slot, PASSWORD)


def test_recovery_recreates_a_lost_slot(recovery: str) -> None:
    lost = add_holder(recovery, "lost@example.org", "forgotten password")
    lost_public_key = lost.public_key
    report, _ = submit("Nur mit dem Wiederherstellungsschlüssel")
    slot = keyring.recover_slot(
        recovery, "lost@example.org", "a brand new password", today=TODAY, params=CHEAP
    )
    db.session.commit()
    holders = db.session.scalars(select(KeySlot).where(KeySlot.holder == "lost@example.org"))
    assert [slot.public_key for slot in holders] == [slot.public_key]
    assert slot.public_key != lost_public_key
    opened = open_report(report, keyring.unlock_with_password(slot, "a brand new password"))
    assert opened.fields["description"] == "Nur mit dem Wiederherstellungsschlüssel"
    assert "key_slot:recover" in tags()
    with pytest.raises(WrongPassword):
        keyring.recover_slot("Z" * 52, "x@example.org", PASSWORD, today=TODAY, params=CHEAP)


def test_removing_a_slot_leaves_that_holder_nothing(recovery: str) -> None:
    slot = add_holder(recovery, "gone@example.org")
    slot_id = slot.id
    keyring.remove_slot(slot)
    db.session.commit()
    assert db.session.scalar(select(func.count(KeyGrant.id)).where(KeyGrant.slot_id == slot_id))\
        == 0  # fmt: skip
    assert "key_slot:remove" in tags()


def test_rotation_rewraps_every_report_and_slot(recovery: str) -> None:
    slot = add_holder(recovery, "rot@example.org")
    reports = [submit(f"Bericht {n}")[0] for n in range(5)]
    old = keyring.sealing_key()
    old_private = keyring.unlock_with_recovery(recovery)[old.id]
    progress = keyring.rotate_keys(
        keyring.unlock_with_recovery(recovery), today=TODAY, commit=db.session.commit,
        batch_size=2,
    )  # fmt: skip
    assert progress.finished
    assert progress.reports_rewrapped == 5
    assert progress.batches == 3
    new = keyring.sealing_key()
    assert new.id != old.id
    assert old.state == keyring.RETIRED
    assert old.grants == []
    for unlocked in (keyring.unlock_with_recovery(recovery),
                     keyring.unlock_with_password(slot, PASSWORD)):  # fmt: skip
        assert list(unlocked) == [new.id]
        for n, report in enumerate(reports):
            assert report.org_key_id == new.id
            assert open_report(report, unlocked).fields["description"] == f"Bericht {n}"
    with pytest.raises(SealError):  # the old key no longer opens anything
        open_report(reports[0], {new.id: old_private})
    assert tags()[-2:] == ["org_key:start_rotation", "org_key:rotate"]
    status = keyring.key_status()
    assert status.reports_per_key == {new.fingerprint: 5}


class Interrupted(Exception):
    pass


def test_rotation_is_safe_to_interrupt_and_resume(recovery: str) -> None:
    reports = [submit(f"Unterbrochen {n}")[0] for n in range(5)]
    report_ids = [report.id for report in reports]
    commits = 0

    def crash_after_first_batch() -> None:
        nonlocal commits
        db.session.commit()
        commits += 1
        if commits == 2:  # the start and one batch have landed
            raise Interrupted

    with pytest.raises(Interrupted):
        keyring.rotate_keys(
            keyring.unlock_with_recovery(recovery), today=TODAY,
            commit=crash_after_first_batch, batch_size=2,
        )  # fmt: skip
    db.session.rollback()
    db.session.expire_all()
    states = sorted(db.session.scalars(select(OrgKey.state)))
    assert states == ["active", "next"]
    # Mid-rotation every report still opens, whichever key it is on now.
    unlocked = keyring.unlock_with_recovery(recovery)
    assert len(unlocked) == 2
    for n, report_id in enumerate(report_ids):
        report = db.session.get(Report, report_id)
        assert report is not None
        assert open_report(report, unlocked).fields["description"] == f"Unterbrochen {n}"
    # Reports arriving mid-rotation go to the incoming key.
    late, _ = submit("Während der Rotation")
    assert late.org_key_id == keyring.sealing_key().id
    assert keyring.key_status().warnings[-1].startswith("A key rotation is unfinished")
    progress = keyring.rotate_keys(unlocked, today=TODAY, commit=db.session.commit)
    assert progress.finished
    assert progress.reports_rewrapped == 3
    assert sorted(db.session.scalars(select(OrgKey.state))) == ["active", "retired"]
    final = keyring.unlock_with_recovery(recovery)
    for report in db.session.scalars(select(Report)):
        assert open_report(report, final).fields["description"]


def test_receipt_code_finds_the_report_and_opens_the_mailbox(recovery: str) -> None:
    report, code = submit()
    variants = [code, code.lower(), code.replace("-", " "), " " + code.replace("-", "") + " "]
    for typed in variants:
        found = find_report(typed, RECEIPT_SECRET)
        assert found is not None
        assert found[0].id == report.id
    assert find_report("AAAA-AAAA-AAAA-AAAA-AAAA", RECEIPT_SECRET) is None
    assert find_report("not a code at all", RECEIPT_SECRET) is None
    assert find_report(code, b"another server secret...........") is None

    staff_key = mailbox_key_for_staff(report, keyring.unlock_with_recovery(recovery))
    reply = seal_message(staff_key, report, 1, "Können Sie uns die Uhrzeit sagen?")
    found = find_report(code, RECEIPT_SECRET)
    assert found is not None
    reporter_key = mailbox_key_for_reporter(*found)
    assert open_message(reporter_key, report, 1, reply) == "Können Sie uns die Uhrzeit sagen?"
    answer = seal_message(reporter_key, report, 2, "Gegen 18 Uhr.")
    assert open_message(staff_key, report, 2, answer) == "Gegen 18 Uhr."
    # The receipt opens the mailbox, never the report itself: its data key is not wrapped to it.
    assert report.wrapped_data_key is not None
    for context in (f"mailbox:{report.id}", f"report:{report.id}"):
        with pytest.raises(SealError):
            unwrap_with_receipt(report.wrapped_data_key, found[1], report.receipt_salt, context)


NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def test_unlocked_session_lives_only_with_its_cookie(recovery: str) -> None:
    slot = add_holder(recovery, "session@example.org")
    report, _ = submit("Sitzungstest")
    ticket = open_unlocked_session(
        slot, keyring.unlock_with_password(slot, PASSWORD), now=NOW, lifetime=dt.timedelta(hours=12)
    )
    db.session.commit()
    idle = dt.timedelta(minutes=30)
    cookie = ticket.to_cookie()
    unlocked = session_keys(SessionTicket.from_cookie(cookie), now=NOW, idle_timeout=idle)
    assert open_report(report, unlocked).fields["description"] == "Sitzungstest"
    # The row alone (a server restart, a copy of the database) opens nothing.
    row = db.session.get(SessionKey, ticket.session_id)
    assert row is not None
    forged = SessionTicket(ticket.session_id, b"\x00" * 32)
    with pytest.raises(SessionLocked):
        session_keys(forged, now=NOW, idle_timeout=idle)
    for bad in ("", "no-dot", "id.!!!", "id." + "A" * 10):
        with pytest.raises(SessionLocked):
            SessionTicket.from_cookie(bad)
    assert cookie not in repr(ticket)
    end_session(ticket.session_id)
    db.session.commit()
    with pytest.raises(SessionLocked):
        session_keys(ticket, now=NOW, idle_timeout=idle)


def test_unlocked_session_expires_idle_and_absolute(recovery: str) -> None:
    slot = add_holder(recovery, "expiry@example.org")
    unlocked = keyring.unlock_with_password(slot, PASSWORD)
    idle = dt.timedelta(minutes=30)
    ticket = open_unlocked_session(slot, unlocked, now=NOW, lifetime=dt.timedelta(hours=12))
    db.session.commit()
    with pytest.raises(SessionLocked):
        session_keys(ticket, now=NOW + dt.timedelta(minutes=31), idle_timeout=idle)
    db.session.commit()
    assert db.session.get(SessionKey, ticket.session_id) is None  # deleted on the way out

    ticket = open_unlocked_session(slot, unlocked, now=NOW, lifetime=dt.timedelta(hours=1))
    for minutes in (20, 40, 59):  # kept alive by use, until the absolute limit
        session_keys(ticket, now=NOW + dt.timedelta(minutes=minutes), idle_timeout=idle)
    with pytest.raises(SessionLocked):
        session_keys(ticket, now=NOW + dt.timedelta(minutes=61), idle_timeout=idle)

    first = open_unlocked_session(slot, unlocked, now=NOW, lifetime=dt.timedelta(hours=1))
    second = open_unlocked_session(slot, unlocked, now=NOW, lifetime=dt.timedelta(hours=3))
    db.session.commit()
    assert purge_expired_sessions(NOW + dt.timedelta(hours=2)) == 1
    end_sessions_of_slot(slot.id)  # logout everywhere
    db.session.commit()
    assert db.session.get(SessionKey, first.session_id) is None
    assert db.session.get(SessionKey, second.session_id) is None
