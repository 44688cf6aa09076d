"""A report's mailbox (``app.mailbox``) on SQLite and PostgreSQL: numbered, sealed, read by both
sides, and nothing stored that the text rules refuse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.crypto import keyring
from app.crypto.keyring import UnlockedKeys
from app.crypto.reports import mailbox_key_for_reporter, mailbox_key_for_staff
from app.extensions import db
from app.mailbox import (
    MAX_TEXT,
    REPORTER,
    STAFF,
    ShownMessage,
    TextRefused,
    add_message,
    shown_messages,
)
from app.models import Message
from tests.factories import TODAY, store_sample_report
from tests.integration.test_canary import rows_containing

RECEIPT_SECRET = b"m" * 32
LATER = TODAY + dt.timedelta(days=2)


@pytest.fixture
def keys(db_app: Flask) -> Iterator[UnlockedKeys]:
    """The organisation keys, as a moderator's login would have unlocked them."""
    with db_app.app_context():
        recovery = keyring.initialise_keys(TODAY)
        db.session.commit()
        yield keyring.unlock_with_recovery(recovery)


def messages_stored() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Message)) or 0)


def test_both_sides_write_and_read_the_same_numbered_list(keys: UnlockedKeys) -> None:
    stored = store_sample_report(RECEIPT_SECRET)
    other = store_sample_report(RECEIPT_SECRET)
    reporter_key = mailbox_key_for_reporter(stored.report, stored.receipt)
    staff_key = mailbox_key_for_staff(stored.report, keys)
    first = add_message(stored.report, staff_key, "Wann war das?", author=STAFF, kind="message",
                        today=TODAY)  # fmt: skip
    elsewhere = add_message(other.report, mailbox_key_for_reporter(other.report, other.receipt),
                            "Anderswo", author=REPORTER, kind="message", today=TODAY)  # fmt: skip
    second = add_message(stored.report, reporter_key, "  Abends.\r\nGegen acht. ",
                         author=REPORTER, kind="addition", today=LATER)  # fmt: skip
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)  # counted per report
    db.session.commit()
    db.session.refresh(stored.report)
    expected = [
        ShownMessage(1, STAFF, "message", TODAY, "Wann war das?"),
        ShownMessage(2, REPORTER, "addition", LATER, "Abends.\nGegen acht."),  # normalised
    ]
    assert shown_messages(stored.report, reporter_key) == expected
    assert shown_messages(stored.report, staff_key) == expected
    assert rows_containing("Gegen acht") == []  # sealed at rest


@pytest.mark.parametrize(("typed", "reason"), [
    ("", "empty"), ("\u200b \ufeff\r\n", "empty"), ("x" * (MAX_TEXT + 1), "too_long"),
])  # fmt: skip
@pytest.mark.parametrize("author", [REPORTER, STAFF])
def test_a_refused_text_stores_nothing(
    keys: UnlockedKeys, typed: str, reason: str, author: str
) -> None:
    stored = store_sample_report(RECEIPT_SECRET)
    mailbox_key = mailbox_key_for_staff(stored.report, keys)
    with pytest.raises(TextRefused) as refused:
        add_message(stored.report, mailbox_key, typed, author=author, kind="message", today=TODAY)
    assert (refused.value.reason, refused.value.author) == (reason, author)
    assert messages_stored() == 0
    # The next accepted message is still the first.
    assert add_message(stored.report, mailbox_key, "x" * MAX_TEXT, author=author,
                       kind="message", today=TODAY).number == 1  # fmt: skip
