"""Following up with only the receipt code: status, messages, more information, deletion.

The status view lives in a short server-side session. Its row holds, sealed under a random
secret that only the person's cookie holds, which report it is for, its exact end and the key
that the receipt code derives (which opens the report's mailbox). In clear the row has only a
random id and the last day on which it can be live: nothing ties a visit to a report or dates it
finer than the day. Leaving, idling or the absolute limit ends it; a retention purge destroys the
mailbox key it would unwrap, so a purged report's session opens nothing and is refused.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from app.crypto.envelope import ReportKey
from app.crypto.errors import SealError, SessionLocked
from app.crypto.receipts import receipt_key
from app.crypto.reports import (
    WITH_MAILBOX,
    Evidence,
    mailbox_key_from_receipt_key,
    seal_attachment,
)
from app.crypto.sessions import STATUS, new_session_secret, open_session, seal_session
from app.extensions import db
from app.intake.services import find_report
from app.mailbox import ShownMessage, shown_messages
from app.models import Attachment, Incident, Report, StatusSession
from app.retention import RetentionOutlook, retention_outlook


@dataclass(frozen=True)
class StatusTicket:
    """What the cookie holds: the row id and the secret that opens it."""

    session_id: str
    secret: str

    def __repr__(self) -> str:
        return "StatusTicket(<hidden>)"


@dataclass(frozen=True)
class ReportStatus:
    state: str
    submitted_on: dt.date
    deletion_requested_on: dt.date | None
    messages: list[ShownMessage]
    images: int
    retention: RetentionOutlook


class ReportPurged(LookupError):
    """The report's personal data was destroyed (retention or a deletion request)."""


class StatusClosed(LookupError):
    """The status session has ended (left, idle, expired, or the report is gone)."""


ACCESS_V1 = 1
# What a session's row seals: version, report id, exact end (Unix seconds), the code's key.
_ACCESS = struct.Struct(">BQq32s")


def last_live_day(opened_on: dt.date, lifetime: dt.timedelta) -> dt.date:
    """The last day on which a session opened on ``opened_on`` can still be live.

    Counted from the day alone: an end date taken from the exact end would tell, for a session
    opened late in the day, that it was.
    """
    whole_days = -(-lifetime // dt.timedelta(days=1))
    return opened_on + dt.timedelta(days=whole_days)


def open_status(
    typed_code: str, receipt_secret: bytes, *, now: dt.datetime, lifetime: dt.timedelta
) -> StatusTicket | None:
    """A status session for the report behind ``typed_code``; None for any wrong code.

    ``now`` is an aware UTC time. Sessions whose last day has passed are removed on the way.

    Raises:
        ReportPurged: when the code is right but the report's personal data is gone.
    """
    found = find_report(typed_code, receipt_secret)
    if found is None:
        return None
    report, receipt = found
    if report.purged_on is not None:
        raise ReportPurged
    purge_status_sessions(now.date())
    access = _ACCESS.pack(
        ACCESS_V1, report.id, int((now + lifetime).timestamp()),
        receipt_key(receipt, report.receipt_salt),
    )  # fmt: skip
    secret = new_session_secret()
    session_id = secrets.token_urlsafe(32)
    db.session.add(
        StatusSession(
            id=session_id,
            sealed_access=seal_session(STATUS, session_id, secret, access),
            expires_on=last_live_day(now.date(), lifetime),
        )
    )
    return StatusTicket(session_id, base64.urlsafe_b64encode(secret).decode())


def resume_status(ticket: StatusTicket, *, now: dt.datetime) -> tuple[Report, ReportKey]:
    """The report and its mailbox key for a live status session.

    A session past its end, or whose report was purged, is removed.

    Raises:
        StatusClosed: when the session is gone, ended or the secret does not fit.
    """
    row = db.session.get(StatusSession, ticket.session_id)
    if row is None:
        raise StatusClosed
    try:
        secret = base64.urlsafe_b64decode(ticket.secret.encode())
        opened = open_session(STATUS, row.id, secret, row.sealed_access)
        version, report_id, ends_at, key = _ACCESS.unpack(opened)
    except (SessionLocked, ValueError, struct.error):
        raise StatusClosed from None
    report = db.session.get(Report, report_id)
    live = version == ACCESS_V1 and now.timestamp() < ends_at
    mailbox_key = _mailbox_key(report, key) if live else None
    if report is None or mailbox_key is None:
        db.session.delete(row)
        raise StatusClosed
    return report, mailbox_key


def _mailbox_key(report: Report | None, key: bytes) -> ReportKey | None:
    """None when the report is gone or purged (its mailbox key was destroyed with its data)."""
    if report is None or report.purged_on is not None:
        return None
    try:
        return mailbox_key_from_receipt_key(report, key)
    except SealError:
        return None


def close_status(ticket: StatusTicket | None) -> None:
    if ticket is not None:
        db.session.execute(delete(StatusSession).where(StatusSession.id == ticket.session_id))


def purge_status_sessions(today: dt.date) -> int:
    """Remove the sessions whose last live day is before ``today`` (all of them have ended)."""
    result = db.session.execute(delete(StatusSession).where(StatusSession.expires_on < today))
    return int(result.rowcount)  # type: ignore[attr-defined]


def report_status(
    report: Report, mailbox_key: ReportKey, *, today: dt.date, retention_days: int
) -> ReportStatus:
    """What the status page shows: the state, the opened mailbox (``app.mailbox``), images,
    and until when the personal data is kept (``retention_days``: ``RETENTION_DAYS``)."""
    incident = db.session.scalars(select(Incident).where(Incident.report_id == report.id)).first()
    return ReportStatus(
        state=incident.state if incident else "received",
        submitted_on=report.submitted_on,
        deletion_requested_on=report.deletion_requested_on,
        messages=shown_messages(report, mailbox_key),
        images=len(report.attachments),
        retention=retention_outlook(report, today, retention_days),
    )


def add_evidence(report: Report, mailbox_key: ReportKey, evidence: Sequence[Evidence]) -> None:
    """Images added after the report: sealed under the mailbox key, the one the person has."""
    position = db.session.scalar(
        select(func.max(Attachment.position)).where(Attachment.report_id == report.id)
    )
    start = -1 if position is None else position
    for offset, item in enumerate(evidence, start=1):
        db.session.add(seal_attachment(mailbox_key, report.id, start + offset, item, WITH_MAILBOX))


def request_deletion(report: Report, today: dt.date) -> None:
    """Record the wish; moderators honour it (and the retention purge destroys the data)."""
    if report.deletion_requested_on is None:
        report.deletion_requested_on = today
