"""Retention: personal data past its deadline is destroyed; the coded incident stays.

Every report gets a deadline for its personal data: ``RETENTION_DAYS`` after its case is closed,
or the day a deletion request is honoured. ``flask retention purge`` (run from cron) then deletes
the sealed fields, images, messages and the form's submission record, and destroys the report's
wrapped keys (a reporter's open status session then opens nothing and is refused). What stays
is the report row with its dates, codebook version and receipt lookup hash, and the coded
incident (clear codes only) that the statistics count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, func, select, text, update

from app.audit import AuditTag, record_event
from app.extensions import db
from app.models import (
    Attachment,
    CaseNote,
    Incident,
    Message,
    Report,
    ReportField,
    Submission,
)


@dataclass(frozen=True)
class PurgeResult:
    """How much one run destroyed (counts only: nothing here may say what a report said)."""

    reports: int = 0
    fields: int = 0
    attachments: int = 0
    messages: int = 0

    def __add__(self, other: PurgeResult) -> PurgeResult:
        return PurgeResult(
            self.reports + other.reports,
            self.fields + other.fields,
            self.attachments + other.attachments,
            self.messages + other.messages,
        )


@dataclass(frozen=True)
class RetentionOutlook:
    """How long a report's personal data is kept, as its reporter is told it (days only).

    ``kind`` is one of:

    - ``"on_day"``: the deadline in force is ``day``; the daily purge deletes the data then;
    - ``"due"``: the deadline has come; the next daily purge deletes the data;
    - ``"requested"``: the reporter asked for deletion and staff have not yet honoured it;
    - ``"after_close"``: the case is open; the deadline will be ``RETENTION_DAYS`` after it is
      closed (``days``), so ``day``, that many days from today, is the earliest it can be.
    """

    kind: str
    day: dt.date | None = None
    days: int = 0


def retention_outlook(report: Report, today: dt.date, days: int) -> RetentionOutlook:
    """What the status page says about deletion for ``report`` on ``today`` (``days`` is the
    ``RETENTION_DAYS`` setting). A purged report has no outlook: its status cannot be opened."""
    deadline = report.retention_deadline
    if deadline is not None and deadline <= today:
        return RetentionOutlook("due")
    if deadline is not None:
        return RetentionOutlook("on_day", deadline)
    if report.deletion_requested_on is not None:
        return RetentionOutlook("requested")
    return RetentionOutlook("after_close", today + dt.timedelta(days=days), days)


def set_deadline_on_close(report: Report, closed_on: dt.date, days: int) -> dt.date | None:
    """Give the report's personal data its deadline when the case is closed.

    ``days`` is the ``RETENTION_DAYS`` setting. Closing again (after a reopening) moves the
    deadline, but never past an honoured deletion request: that earlier deadline is kept. A
    purged report keeps its deadline as it was. Returns the deadline now in force.
    """
    if report.purged_on is not None:
        return report.retention_deadline
    deadline = closed_on + dt.timedelta(days=days)
    if report.deletion_requested_on is not None and report.retention_deadline is not None:
        deadline = min(deadline, report.retention_deadline)
    report.retention_deadline = deadline
    return deadline


def honour_deletion(report: Report, today: dt.date, actor_id: int | None) -> bool:
    """Staff honour a deletion request: the next purge destroys the report's personal data.

    The deadline becomes ``today`` (an earlier one stays). A request that came by another way
    than the status page counts from today. Audited as ``report:honour_deletion``. Returns False
    (and records nothing) when the report is already purged.
    """
    if report.purged_on is not None:
        return False
    if report.deletion_requested_on is None:
        report.deletion_requested_on = today
    if report.retention_deadline is None or report.retention_deadline > today:
        report.retention_deadline = today
    record_event(
        AuditTag.REPORT_HONOUR_DELETION,
        f"Deletion of report {report.id} honoured; its personal data is purged on the next run",
        actor_id=actor_id,
        target_type="report",
        target_id=report.id,
        details={"retention_deadline": report.retention_deadline.isoformat()},
    )
    return True


def _due(today: dt.date) -> ColumnElement[bool]:
    return and_(Report.retention_deadline <= today, Report.purged_on.is_(None))


def count_due_reports(today: dt.date) -> int:
    """How many reports the next purge would destroy (for ``--dry-run``)."""
    found = db.session.scalar(select(func.count()).select_from(Report).where(_due(today)))
    return int(found or 0)


RowsOfReport = type[ReportField | Attachment | Message | Submission]


def _delete_rows(model: RowsOfReport, ids: list[int]) -> int:
    result = db.session.execute(delete(model).where(model.report_id.in_(ids)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _purge_batch(ids: list[int], today: dt.date) -> PurgeResult:
    fields = _delete_rows(ReportField, ids)
    attachments = _delete_rows(Attachment, ids)
    messages = _delete_rows(Message, ids)
    # The submission record maps a form token to the report: it may not outlive the data.
    # A reporter's open status session cannot be found by its report (that is sealed), and
    # needs not be: it keeps only the key that unwraps the receipt-wrapped mailbox key, which
    # is destroyed below, and it is refused for a purged report and removed by its day.
    _delete_rows(Submission, ids)
    # Moderators' notes are sealed with the report's data key: personal data, gone too.
    db.session.execute(
        delete(CaseNote).where(
            CaseNote.incident_id.in_(select(Incident.id).where(Incident.report_id.in_(ids)))
        )
    )
    # The keys are destroyed with the data. Each report's data key and mailbox key exist only
    # wrapped in these three columns, so once they are gone every leftover copy of the sealed
    # envelopes (a freed database page, a dead PostgreSQL row version before VACUUM, an export)
    # can never be opened again, whoever holds the organisation key. Backups taken before the
    # purge still hold both and stay readable to key holders until they expire (README).
    db.session.execute(
        update(Report)
        .where(Report.id.in_(ids))
        .values(
            wrapped_data_key=None,
            wrapped_mailbox_key=None,
            receipt_wrapped_mailbox_key=None,
            purged_on=today,
        )
    )
    return PurgeResult(len(ids), fields, attachments, messages)


def purge_due_reports(
    today: dt.date,
    *,
    batch_size: int = 100,
    commit: Callable[[], None] | None = None,
) -> PurgeResult:
    """Destroy the personal data of every report whose deadline is ``today`` or earlier.

    Works in batches of ``batch_size`` reports; each batch writes one audit event
    (``report:purge``, with the report ids and counts, never content) and is committed
    through ``commit`` (default: the session's commit). An interrupted run loses nothing that was
    committed, and running again continues where it stopped; a second run finds nothing to do.
    The coded incident (and its ``report_id``) is left untouched.

    On SQLite ``secure_delete`` is on (``app.database``): freed pages are overwritten with zeros.
    After purging, the write-ahead log is checkpointed and truncated so that older page images
    do not linger in it either.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    commit = commit or db.session.commit
    total = PurgeResult()
    while True:
        ids = list(
            db.session.scalars(
                select(Report.id).where(_due(today)).order_by(Report.id).limit(batch_size)
            )
        )
        if not ids:
            break
        done = _purge_batch(ids, today)
        record_event(
            AuditTag.REPORT_PURGE,
            f"Personal data of {done.reports} reports past their retention deadline purged",
            target_type="report",
            details={
                "report_ids": ids,
                "fields": done.fields,
                "attachments": done.attachments,
                "messages": done.messages,
                "deadline_on_or_before": today.isoformat(),
            },
        )
        commit()
        total += done
    if total.reports and db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return total
