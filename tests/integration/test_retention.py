"""Retention: personal data past its deadline is destroyed; the coded incident stays.

On SQLite and on PostgreSQL. Each report here has every kind of personal row: sealed fields, an
image, a message and the form's submission record; and an open status session.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit import AuditTag
from app.crypto import keyring
from app.crypto.attachments import sanitise_image
from app.crypto.errors import SealError
from app.crypto.reports import Evidence, mailbox_key_for_reporter, open_report
from app.extensions import db
from app.intake import followup
from app.intake.services import remember_submission
from app.mailbox import REPORTER, add_message
from app.models import (
    Attachment,
    AuditEvent,
    Base,
    CaseNote,
    Incident,
    Message,
    Report,
    ReportField,
    StatusSession,
    Submission,
    User,
)
from app.moderation.cases import add_note
from app.retention import (
    PurgeResult,
    count_due_reports,
    honour_deletion,
    purge_due_reports,
    set_deadline_on_close,
)
from tests.factories import store_sample_report
from tests.integration.test_canary import image_with, rows_containing

RECEIPT_SECRET = b"r" * 32
TODAY = dt.date(2026, 11, 26)
PERSONAL_ROWS = (ReportField, Attachment, Message, Submission)


@pytest.fixture
def keyed_app(db_app: Flask) -> Flask:
    """A migrated app with an organisation key; its recovery key in ``TEST_RECOVERY``."""
    with db_app.app_context():
        db_app.config["TEST_RECOVERY"] = keyring.initialise_keys(TODAY)
        db.session.commit()
    return db_app


@dataclass(frozen=True)
class Sample:
    report_id: int
    incident_id: int
    receipt: str
    status: followup.StatusTicket


def add_report(deadline: dt.date | None, canary: str = "") -> Sample:
    """A report with fields, an image, a message, a status session and a submission."""
    text = canary or secrets.token_hex(8)
    image = sanitise_image(image_with(text))
    stored = store_sample_report(
        RECEIPT_SECRET,
        evidence=[Evidence(image, original_name=f"{text}.png")],
        description=f"Beschreibung {text}",
        district=f"Viertel {text}",
        contact_email=f"{text}@example.org",
    )
    report = stored.report
    mailbox_key = mailbox_key_for_reporter(report, stored.receipt)
    add_message(report, mailbox_key, f"Nachricht {text}", author=REPORTER, kind="message",
                today=TODAY)  # fmt: skip
    status = followup.open_status(
        stored.receipt.display,
        RECEIPT_SECRET,
        now=dt.datetime.now(dt.UTC),
        lifetime=dt.timedelta(hours=2),
    )
    assert status is not None
    remember_submission(secrets.token_urlsafe(16), report, RECEIPT_SECRET)
    report.retention_deadline = deadline
    db.session.flush()
    incident_id = db.session.scalars(select(Incident.id).where(Incident.report_id == report.id))
    return Sample(report.id, incident_id.one(), stored.receipt.display, status)


def personal_rows(report_id: int) -> dict[str, int]:
    return {
        model.__tablename__: int(
            db.session.scalar(
                select(func.count()).select_from(model).where(model.report_id == report_id)
            )
            or 0
        )
        for model in PERSONAL_ROWS
    }


def incident_snapshot(incident_id: int) -> dict[str, Any]:
    incident = db.session.get(Incident, incident_id)
    assert incident is not None
    columns = {column.key: getattr(incident, column.key) for column in Incident.__table__.columns}
    codes = sorted((code.question, code.code) for code in incident.codes)
    return {"columns": columns, "codes": codes}


def is_untouched(report_id: int) -> bool:
    report = db.session.get(Report, report_id)
    assert report is not None
    rows = personal_rows(report_id)
    return (
        report.purged_on is None
        and report.wrapped_data_key is not None
        and report.wrapped_mailbox_key is not None
        and report.receipt_wrapped_mailbox_key is not None
        and rows["attachment"] == rows["message"] == 1
        and rows["submission"] == 1
        and rows["report_field"] > 0
    )


def events_tagged(tag: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


def purge_events() -> list[AuditEvent]:
    return events_tagged(AuditTag.REPORT_PURGE)


def test_a_due_report_loses_its_personal_data_and_keeps_its_incident(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        due = add_report(TODAY - dt.timedelta(days=1))
        db.session.commit()
        fields = personal_rows(due.report_id)["report_field"]
        before = incident_snapshot(due.incident_id)
        assert before["codes"]  # several-answer questions were coded

        result = purge_due_reports(TODAY)

        assert result == PurgeResult(reports=1, fields=fields, attachments=1, messages=1)
        db.session.expire_all()
        assert personal_rows(due.report_id) == dict.fromkeys(personal_rows(due.report_id), 0)
        report = db.session.get(Report, due.report_id)
        assert report is not None
        assert report.purged_on == TODAY
        assert report.wrapped_data_key is None
        assert report.wrapped_mailbox_key is None
        assert report.receipt_wrapped_mailbox_key is None
        assert report.submitted_on == TODAY  # the day it came stays, as the incident's does
        assert incident_snapshot(due.incident_id) == before
        assert before["columns"]["report_id"] == due.report_id
        unlocked = keyring.unlock_with_recovery(keyed_app.config["TEST_RECOVERY"])
        with pytest.raises(SealError, match="purged"):
            open_report(report, unlocked)


def test_a_purged_report_refuses_a_status_session_opened_before(keyed_app: Flask) -> None:
    """The purge cannot find the session (its report is sealed); it makes it open nothing."""
    now = dt.datetime.now(dt.UTC)
    with keyed_app.app_context():
        due = add_report(TODAY - dt.timedelta(days=1))
        kept = add_report(None)
        db.session.commit()
        for sample in (due, kept):
            report, _ = followup.resume_status(sample.status, now=now)
            assert report.id == sample.report_id

        purge_due_reports(TODAY)
        db.session.expire_all()

        with pytest.raises(followup.StatusClosed):
            followup.resume_status(due.status, now=now)
        report, _ = followup.resume_status(kept.status, now=now)
        assert report.id == kept.report_id
        db.session.commit()
        assert db.session.scalars(select(StatusSession.id)).all() == [kept.status.session_id]
        with pytest.raises(followup.ReportPurged):  # and a new one is refused, as before
            followup.open_status(due.receipt, RECEIPT_SECRET, now=now,
                                 lifetime=dt.timedelta(hours=2))  # fmt: skip


def test_reports_not_yet_due_or_without_deadline_are_untouched(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        on_the_day = add_report(TODAY)
        tomorrow = add_report(TODAY + dt.timedelta(days=1))
        open_case = add_report(None)
        db.session.commit()
        assert count_due_reports(TODAY) == 1

        assert purge_due_reports(TODAY).reports == 1

        db.session.expire_all()
        assert not is_untouched(on_the_day.report_id)  # the deadline day itself is due
        assert is_untouched(tomorrow.report_id)
        assert is_untouched(open_case.report_id)
        assert count_due_reports(TODAY) == 0


def test_closing_sets_the_deadline_and_an_honoured_deletion_is_purged_next(
    keyed_app: Flask,
) -> None:
    with keyed_app.app_context():
        closed = add_report(None)
        deleted = add_report(None)
        report = db.session.get(Report, closed.report_id)
        assert report is not None
        closed_on = TODAY - dt.timedelta(days=10)
        days = int(keyed_app.config["RETENTION_DAYS"])
        assert days == 180
        assert set_deadline_on_close(report, closed_on, days) == closed_on + dt.timedelta(180)
        assert report.retention_deadline == dt.date(2027, 5, 15)

        wish = db.session.get(Report, deleted.report_id)
        assert wish is not None
        followup.request_deletion(wish, TODAY - dt.timedelta(days=2))
        set_deadline_on_close(wish, TODAY - dt.timedelta(days=1), days)
        assert honour_deletion(wish, TODAY, actor_id=7)
        assert wish.retention_deadline == TODAY
        assert wish.deletion_requested_on == TODAY - dt.timedelta(days=2)
        # Reopening and closing again must not push an honoured deletion back.
        assert set_deadline_on_close(wish, TODAY, days) == TODAY
        db.session.commit()
        (event,) = events_tagged(AuditTag.REPORT_HONOUR_DELETION)
        assert (event.actor_id, event.target_type, event.target_id) == (7, "report", wish.id)

        assert purge_due_reports(TODAY).reports == 1
        db.session.expire_all()
        assert not is_untouched(deleted.report_id)
        assert is_untouched(closed.report_id)
        purged = db.session.get(Report, deleted.report_id)
        assert purged is not None
        # Nothing more to honour or to move once the data is gone.
        assert not honour_deletion(purged, TODAY + dt.timedelta(days=1), actor_id=7)
        assert set_deadline_on_close(purged, TODAY + dt.timedelta(days=3), days) == TODAY
        assert (
            len(
                list(
                    db.session.scalars(
                        select(AuditEvent).where(AuditEvent.tag == AuditTag.REPORT_HONOUR_DELETION)
                    )
                )
            )
            == 1
        )


def test_a_deletion_asked_for_by_other_means_counts_from_today(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        sample = add_report(TODAY + dt.timedelta(days=90))
        report = db.session.get(Report, sample.report_id)
        assert report is not None
        assert honour_deletion(report, TODAY, actor_id=None)
        assert (report.deletion_requested_on, report.retention_deadline) == (TODAY, TODAY)
        # An earlier deadline is never moved later.
        assert honour_deletion(report, TODAY + dt.timedelta(days=1), actor_id=None)
        assert report.retention_deadline == TODAY


def test_running_twice_is_a_no_op_and_each_batch_is_audited(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        samples = [add_report(TODAY - dt.timedelta(days=n)) for n in range(3)]
        db.session.commit()

        first = purge_due_reports(TODAY, batch_size=2)
        second = purge_due_reports(TODAY, batch_size=2)

        assert first.reports == 3
        assert second == PurgeResult()
        events = purge_events()
        assert len(events) == 2  # one per batch, none for the empty second run
        ids = [sample.report_id for sample in samples]
        assert [event.details["report_ids"] for event in events] == [ids[:2], ids[2:]]
        assert sum(event.details["attachments"] for event in events) == 3
        assert sum(event.details["messages"] for event in events) == 3
        assert events[0].summary.startswith("Personal data of 2 reports")
        assert set(events[0].details) == {
            "report_ids", "fields", "attachments", "messages", "deadline_on_or_before"
        }  # fmt: skip


def test_an_interrupted_run_loses_nothing_and_the_next_run_continues(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        samples = [add_report(TODAY - dt.timedelta(days=1)) for _ in range(3)]
        db.session.commit()
        calls: list[int] = []

        def commit_then_fail() -> None:
            calls.append(1)
            if len(calls) > 1:
                raise RuntimeError("the machine went down")
            db.session.commit()

        with pytest.raises(RuntimeError, match="went down"):
            purge_due_reports(TODAY, batch_size=2, commit=commit_then_fail)
        db.session.rollback()

        states = [is_untouched(sample.report_id) for sample in samples]
        assert states == [False, False, True]
        assert len(purge_events()) == 1
        assert count_due_reports(TODAY) == 1

        assert purge_due_reports(TODAY, batch_size=2).reports == 1
        db.session.expire_all()
        assert not any(is_untouched(sample.report_id) for sample in samples)
        assert [event.details["report_ids"] for event in purge_events()][1] == [
            samples[2].report_id
        ]


def test_a_purge_leaves_no_trace_of_the_sealed_data(keyed_app: Flask, database_url: str) -> None:
    canary = f"Kanarienvogel-{secrets.token_hex(12)}"
    with keyed_app.app_context():
        sample = add_report(TODAY - dt.timedelta(days=1), canary)
        kept = add_report(None)
        db.session.commit()
        sealed = sealed_bytes(sample.report_id)
        assert len(sealed) >= 5
        assert all(rows_holding(blob) for blob in sealed)  # the search finds them before
        on_sqlite = database_url.startswith("sqlite")
        if on_sqlite:
            assert files_holding(keyed_app, sealed)

        purge_due_reports(TODAY)

        assert rows_containing(canary) == []
        assert [blob for blob in sealed if rows_holding(blob)] == []
        assert personal_rows(sample.report_id)["report_field"] == 0
        assert is_untouched(kept.report_id)
    if on_sqlite:
        # secure_delete zeroes freed pages, and the purge truncates the write-ahead log: not
        # even the files hold the envelopes any more. (PostgreSQL keeps dead row versions
        # until VACUUM; without the destroyed keys they cannot be opened.)
        assert files_holding(keyed_app, sealed) == []


def files_holding(app: Flask, sealed: list[bytes]) -> list[str]:
    return [
        str(path)
        for path in sorted(Path(app.instance_path).rglob("*"))
        if path.is_file() and any(blob in path.read_bytes() for blob in sealed)
    ]


def sealed_bytes(report_id: int) -> list[bytes]:
    """A distinctive slice of every sealed value and wrapped key of the report."""
    report = db.session.get(Report, report_id)
    assert report is not None
    values = [field.envelope for field in report.fields]
    for attachment in report.attachments:
        values += [attachment.sealed_image, attachment.sealed_metadata]
    values += [message.sealed_body for message in report.messages]
    values += [
        key
        for key in (
            report.wrapped_data_key,
            report.wrapped_mailbox_key,
            report.receipt_wrapped_mailbox_key,
        )
        if key is not None
    ]
    # 32 bytes from past the version byte and nonce: ciphertext, unique to this value.
    return [value[20:52] for value in values]


def rows_holding(data: bytes) -> list[str]:
    """Every table column, in every row, whose value contains ``data``."""
    hits = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for column, value in zip(table.columns, row, strict=True):
                if isinstance(value, bytes | memoryview):
                    found = data in bytes(value)
                else:
                    found = data in json.dumps(value, default=str).encode()
                if found:
                    hits.append(f"{table.name}.{column.name}")
    return hits


def test_the_cli_purges_reports_and_dry_run_changes_nothing(keyed_app: Flask) -> None:
    today = dt.datetime.now(dt.UTC).date()
    with keyed_app.app_context():
        due = add_report(today - dt.timedelta(days=1))
        later = add_report(today + dt.timedelta(days=1))
        db.session.commit()
        fields = personal_rows(due.report_id)["report_field"]
    runner = keyed_app.test_cli_runner()

    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"1 reports are due for purging (deadline on or before {today})." in dry.output
    assert "nothing was changed" in dry.output
    with keyed_app.app_context():
        assert is_untouched(due.report_id)
        assert purge_events() == []

    first = runner.invoke(args=["retention", "purge"])
    assert first.exit_code == 0, first.output
    assert first.output == f"Purged 1 reports ({fields} fields, 1 images, 1 messages).\n"
    again = runner.invoke(args=["retention", "purge"])
    assert again.exit_code == 0, again.output
    assert again.output == "Purged 0 reports (0 fields, 0 images, 0 messages).\n"
    with keyed_app.app_context():
        assert not is_untouched(due.report_id)
        assert is_untouched(later.report_id)
        assert len(purge_events()) == 1


def test_a_batch_needs_at_least_one_report(keyed_app: Flask) -> None:
    with keyed_app.app_context(), pytest.raises(ValueError, match="batch_size"):
        purge_due_reports(TODAY, batch_size=0)


def test_the_purge_removes_the_moderators_sealed_notes(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        due = add_report(TODAY - dt.timedelta(days=1))
        incident = db.session.get(Incident, due.incident_id)
        assert incident is not None
        author = User(email="note@example.org", role="moderator", password_salt=b"0" * 16,
                      password_params={}, password_verifier=b"0" * 32, sealed_totp_secret=b"x",
                      created_on=TODAY)  # fmt: skip
        db.session.add(author)
        db.session.flush()
        unlocked = keyring.unlock_with_recovery(keyed_app.config["TEST_RECOVERY"])
        add_note(incident, "Interne Notiz", by=author, keys=unlocked, today=TODAY)
        db.session.commit()
        purge_due_reports(TODAY)
        remaining = db.session.scalar(
            select(func.count(CaseNote.id)).where(CaseNote.incident_id == due.incident_id)
        )
        assert remaining == 0
