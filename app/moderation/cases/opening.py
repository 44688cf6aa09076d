"""Reading a case: what the page shows without opening anything, and opening the sealed parts.

Opening is audited (``case:open``); images are opened one by one, only when looked at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.audit import AuditTag, record_event
from app.crypto.envelope import open_sealed_text
from app.crypto.keyring import UnlockedKeys
from app.crypto.reports import (
    WITH_MAILBOX,
    OpenedAttachment,
    attachment_key,
    mailbox_key_for_staff,
    open_attachment_meta,
    report_key,
)
from app.crypto.reports import open_attachment as open_sealed_attachment
from app.extensions import db
from app.mailbox import ShownMessage, shown_messages
from app.models import Attachment, CaseNote, Incident, Message, Report, ReportField, User
from app.moderation.cases.errors import AttachmentNotFound, PersonalDataGone

# The only types an opened image is served as (anything else is offered as a download).
SAFE_IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class CaseFacts:
    """What the case page shows without opening anything: clear codes, dates, counts."""

    report: Report | None
    fields: int
    notes: int
    messages: int
    attachments: int
    duplicates: list[int]

    @property
    def personal_data(self) -> bool:
        return has_personal_data(self.report)


def _count(model: type[ReportField | Message | Attachment], report: Report | None) -> int:
    if report is None:
        return 0
    query = select(func.count()).select_from(model).where(model.report_id == report.id)
    return int(db.session.scalar(query) or 0)


def case_facts(incident: Incident) -> CaseFacts:
    """Counts only: the sealed rows (images up to 10 MB each) are not even loaded."""
    report = report_of(incident)
    notes = db.session.scalar(
        select(func.count()).select_from(CaseNote).where(CaseNote.incident_id == incident.id)
    )
    duplicates = db.session.scalars(
        select(Incident.id).where(Incident.duplicate_of == incident.id).order_by(Incident.id)
    )
    return CaseFacts(
        report,
        fields=_count(ReportField, report),
        notes=int(notes or 0),
        messages=_count(Message, report),
        attachments=_count(Attachment, report),
        duplicates=list(duplicates),
    )


@dataclass(frozen=True)
class OpenedNote:
    number: int
    author_id: int | None
    written_on: dt.date
    text: str


@dataclass(frozen=True)
class AttachmentInfo:
    """An image's sealed metadata; the image itself is opened only when it is looked at."""

    position: int
    mime_type: str
    width: int
    height: int
    original_name: str
    added_later: bool


@dataclass(frozen=True)
class OpenedCase:
    fields: dict[str, str]
    notes: list[OpenedNote] = field(default_factory=list)
    messages: list[ShownMessage] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"OpenedCase(fields={sorted(self.fields)}, notes={len(self.notes)})"


def report_of(incident: Incident) -> Report | None:
    """The raw report behind the case (None for an incident that came without one)."""
    return db.session.get(Report, incident.report_id) if incident.report_id else None


def has_personal_data(report: Report | None) -> bool:
    """Whether the report's sealed data (and the keys that open it) is still there."""
    return report is not None and report.purged_on is None and report.wrapped_data_key is not None


def report_with_data(incident: Incident) -> Report:
    """The case's report, when its personal data is there; else ``PersonalDataGone``."""
    report = report_of(incident)
    if report is None or not has_personal_data(report):
        raise PersonalDataGone("the case's personal data is not there (purged or never sent)")
    return report


def note_field(number: int) -> str:
    """The field name a note is sealed under (bound into the envelope's associated data)."""
    return f"note:{number}"


def open_case(incident: Incident, *, by: User, keys: UnlockedKeys) -> OpenedCase:
    """Open every sealed part of the case: the report's fields, notes, messages, image metadata.

    Writes one ``case:open`` event (with the counts of what was opened). Images themselves are
    opened one by one with ``open_attachment``.

    Raises:
        PersonalDataGone: when the report was purged or the case has no report.
        SealError: when the keys do not open the report (another organisation key, tampering).
    """
    report = report_with_data(incident)
    data_key = report_key(report, keys)
    mailbox_key = mailbox_key_for_staff(report, keys)
    fields = {
        item.name: open_sealed_text(data_key, report.id, item.name, item.envelope)
        for item in report.fields
    }
    notes = [
        OpenedNote(
            note.number,
            note.author_id,
            note.written_on,
            open_sealed_text(data_key, report.id, note_field(note.number), note.sealed_body),
        )
        for note in db.session.scalars(
            select(CaseNote).where(CaseNote.incident_id == incident.id).order_by(CaseNote.number)
        )
    ]
    messages = shown_messages(report, mailbox_key)
    attachments = []
    # Only the metadata: each image is opened when it is looked at (open_attachment).
    images = db.session.execute(
        select(Attachment.position, Attachment.sealed_with, Attachment.sealed_metadata)
        .where(Attachment.report_id == report.id)
        .order_by(Attachment.position)
    )
    for position, sealed_with, sealed_metadata in images:
        opener = mailbox_key if sealed_with == WITH_MAILBOX else data_key
        meta = open_attachment_meta(opener, report.id, position, sealed_metadata)
        attachments.append(
            AttachmentInfo(
                position=position,
                mime_type=meta.mime_type,
                width=meta.width,
                height=meta.height,
                original_name=meta.original_name,
                added_later=sealed_with == WITH_MAILBOX,
            )
        )
    record_event(
        AuditTag.CASE_OPEN,
        f"Sealed data of case {incident.id} opened",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={
            "report_id": report.id,
            "fields": len(fields),
            "notes": len(notes),
            "messages": len(messages),
            "attachments": len(attachments),
        },
    )
    return OpenedCase(fields, notes, messages, attachments)


def open_attachment(
    incident: Incident, position: int, *, by: User, keys: UnlockedKeys
) -> OpenedAttachment:
    """Open one image of the case; writes a ``case:open`` event naming its position.

    Raises:
        PersonalDataGone: when the report was purged or the case has no report.
        AttachmentNotFound: when there is no image at ``position``.
        SealError: when the keys do not open it.
    """
    report = report_with_data(incident)
    attachment = db.session.scalars(
        select(Attachment).where(Attachment.report_id == report.id, Attachment.position == position)
    ).first()
    if attachment is None:
        raise AttachmentNotFound(position)
    opened = open_sealed_attachment(
        attachment_key(report, attachment.sealed_with, keys), attachment
    )
    record_event(
        AuditTag.CASE_OPEN,
        f"Image {position} of case {incident.id} opened",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"report_id": report.id, "attachment": position},
    )
    return opened
