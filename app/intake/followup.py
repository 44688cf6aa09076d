"""Following up with only the receipt code: status, messages, more information, deletion.

The status view lives in a short server-side session: the report's mailbox key, sealed under a
random secret that only the person's cookie holds. Leaving, idling or the absolute limit ends it.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, select

from app.crypto.envelope import NONCE_BYTES, ReportKey
from app.crypto.reports import (
    Evidence,
    mailbox_key_for_reporter,
    open_message,
    seal_attachment,
    seal_message,
)
from app.extensions import db
from app.intake.services import find_report
from app.models import Attachment, Incident, Message, Report, StatusSession

REPORTER, STAFF = "reporter", "staff"


@dataclass(frozen=True)
class StatusTicket:
    """What the cookie holds: the row id and the secret that opens it."""

    session_id: str
    secret: str

    def __repr__(self) -> str:
        return "StatusTicket(<hidden>)"


@dataclass(frozen=True)
class ShownMessage:
    number: int
    author: str
    kind: str
    sent_on: dt.date
    text: str


@dataclass(frozen=True)
class ReportStatus:
    state: str
    submitted_on: dt.date
    deletion_requested_on: dt.date | None
    messages: list[ShownMessage]
    images: int


class ReportPurged(LookupError):
    """The report's personal data was destroyed (retention or a deletion request)."""


class StatusClosed(LookupError):
    """The status session has ended (left, idle, expired, or the report is gone)."""


def _aad(session_id: str) -> bytes:
    return b"meldeportal/status\x00" + session_id.encode()


def open_status(
    typed_code: str, receipt_secret: bytes, *, now: dt.datetime, lifetime: dt.timedelta
) -> StatusTicket | None:
    """A status session for the report behind ``typed_code``; None for any wrong code.

    Raises:
        ReportPurged: when the code is right but the report's personal data is gone.
    """
    found = find_report(typed_code, receipt_secret)
    if found is None:
        return None
    report, receipt = found
    if report.purged_on is not None:
        raise ReportPurged
    mailbox_key = mailbox_key_for_reporter(report, receipt)
    secret = AESGCM.generate_key(bit_length=256)
    session_id = secrets.token_urlsafe(32)
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + AESGCM(secret).encrypt(nonce, mailbox_key.secret_bytes, _aad(session_id))
    db.session.add(
        StatusSession(
            id=session_id,
            report_id=report.id,
            sealed_mailbox_key=sealed,
            expires_at=now + lifetime,
        )
    )
    return StatusTicket(session_id, base64.urlsafe_b64encode(secret).decode())


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def resume_status(ticket: StatusTicket, *, now: dt.datetime) -> tuple[Report, ReportKey]:
    """The report and its mailbox key for a live status session.

    Raises:
        StatusClosed: when the session is gone, expired or the secret does not fit.
    """
    row = db.session.get(StatusSession, ticket.session_id)
    if row is None:
        raise StatusClosed
    if now >= _aware(row.expires_at):
        db.session.delete(row)
        raise StatusClosed
    try:
        secret = base64.urlsafe_b64decode(ticket.secret.encode())
        data = row.sealed_mailbox_key
        raw = AESGCM(secret).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _aad(row.id))
    except (InvalidTag, ValueError):
        raise StatusClosed from None
    report = db.session.get(Report, row.report_id)
    if report is None:
        raise StatusClosed
    return report, ReportKey(raw)


def close_status(ticket: StatusTicket | None) -> None:
    if ticket is not None:
        db.session.execute(delete(StatusSession).where(StatusSession.id == ticket.session_id))


def purge_status_sessions(now: dt.datetime) -> int:
    result = db.session.execute(delete(StatusSession).where(StatusSession.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def report_status(report: Report, mailbox_key: ReportKey) -> ReportStatus:
    incident = db.session.scalars(select(Incident).where(Incident.report_id == report.id)).first()
    messages = [
        ShownMessage(
            message.number,
            message.author,
            message.kind,
            message.sent_on,
            open_message(mailbox_key, report, message.number, message.sealed_body),
        )
        for message in report.messages
    ]
    return ReportStatus(
        state=incident.state if incident else "received",
        submitted_on=report.submitted_on,
        deletion_requested_on=report.deletion_requested_on,
        messages=messages,
        images=len(report.attachments),
    )


def _next_number(report: Report) -> int:
    highest = db.session.scalar(
        select(func.max(Message.number)).where(Message.report_id == report.id)
    )
    return (highest or 0) + 1


def add_message(
    report: Report, mailbox_key: ReportKey, text: str, *, author: str, kind: str, today: dt.date
) -> Message:
    """Seal a message into the report's mailbox (readable by staff and by the reporter)."""
    number = _next_number(report)
    message = Message(
        report_id=report.id,
        number=number,
        author=author,
        kind=kind,
        sealed_body=seal_message(mailbox_key, report, number, text),
        sent_on=today,
    )
    db.session.add(message)
    db.session.flush()
    return message


def add_evidence(report: Report, mailbox_key: ReportKey, evidence: Sequence[Evidence]) -> None:
    """Images added after the report: sealed under the mailbox key, the one the person has."""
    position = db.session.scalar(
        select(func.max(Attachment.position)).where(Attachment.report_id == report.id)
    )
    start = -1 if position is None else position
    for offset, item in enumerate(evidence, start=1):
        db.session.add(seal_attachment(mailbox_key, report.id, start + offset, item, "mailbox"))


def request_deletion(report: Report, today: dt.date) -> None:
    """Record the wish; moderators honour it (and the retention purge destroys the data)."""
    if report.deletion_requested_on is None:
        report.deletion_requested_on = today
