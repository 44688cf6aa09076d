"""What staff write on a case: internal notes, and messages to the reporter's mailbox.

Both follow the mailbox's text rules (``app.mailbox``) and are sealed before they are stored;
the audit trail gets their numbers, never what was written.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.audit import AuditTag, record_event
from app.crypto.envelope import seal
from app.crypto.keyring import UnlockedKeys
from app.crypto.reports import mailbox_key_for_staff, report_key
from app.extensions import db
from app.mailbox import STAFF, add_message, checked_text
from app.models import CaseNote, Incident, Message, Report, User
from app.moderation.cases.errors import PersonalDataGone
from app.moderation.cases.opening import (
    has_personal_data,
    note_field,
    report_with_data,
)


def add_note(
    incident: Incident, text: str, *, by: User, keys: UnlockedKeys, today: dt.date
) -> CaseNote:
    """Seal an internal note with the report's data key (field ``note:<number>``).

    Only people who can open the report can read it; the purge of the report's keys makes
    it unreadable with everything else. Writes ``case:add_note`` with the note's number.

    Raises:
        TextRefused: (``app.mailbox``) for a text with nothing visible in it or a too long one.
        PersonalDataGone: when the report was purged or the case has no report.
        SealError: when the keys do not open the report.
    """
    text = checked_text(text, author=STAFF)
    report = report_with_data(incident)
    data_key = report_key(report, keys)
    highest = db.session.scalar(
        select(func.max(CaseNote.number)).where(CaseNote.incident_id == incident.id)
    )
    number = (highest or 0) + 1
    note = CaseNote(
        incident_id=incident.id,
        author_id=by.id,
        number=number,
        sealed_body=seal(data_key, report.id, note_field(number), text),
        written_on=today,
    )
    db.session.add(note)
    record_event(
        AuditTag.CASE_ADD_NOTE,
        f"Note {number} added to case {incident.id}",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"note": number},
    )
    return note


def _incident_id_of(report: Report) -> int | None:
    return db.session.scalar(select(Incident.id).where(Incident.report_id == report.id))


def send_to_reporter(
    report: Report, text: str, *, by: User, keys: UnlockedKeys, today: dt.date
) -> Message:
    """Write to the reporter: sealed under the mailbox key, which their receipt code opens too.

    Writes ``case:send_message`` with the message's number.

    Raises:
        TextRefused: (``app.mailbox``) for a text with nothing visible in it or a too long one.
        PersonalDataGone: when the report (and so its mailbox) was purged.
        SealError: when the keys do not open the mailbox.
    """
    text = checked_text(text, author=STAFF)
    if not has_personal_data(report):
        raise PersonalDataGone("the report's mailbox was purged")
    mailbox_key = mailbox_key_for_staff(report, keys)
    message = add_message(report, mailbox_key, text, author=STAFF, kind="message", today=today)
    incident_id = _incident_id_of(report)
    record_event(
        AuditTag.CASE_SEND_MESSAGE,
        f"Message {message.number} sent to the reporter of case {incident_id}",
        actor_id=by.id,
        target_type="incident",
        target_id=incident_id,
        details={"report_id": report.id, "message": message.number},
    )
    return message
