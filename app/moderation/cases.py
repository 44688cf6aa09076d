"""Working a case: the queue, opening the sealed report, state changes, coding, notes, mailbox.

Each action is one named function. It checks the rule it guarantees, changes the rows and adds
its audit event (tag ``case:…``; ids and codes only, never what anyone wrote) to the same
transaction. Nothing here commits: the request commits once at its end, and only if it succeeded,
so a change and its audit event land together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import ColumnElement, delete, exists, func, select, union_all

from app import retention
from app.audit import record_event
from app.codebook import CHOICE_KINDS, Codebook, current_codebook
from app.codebook.answers import is_visible
from app.crypto.envelope import open_sealed, open_sealed_text, seal
from app.crypto.reports import (
    OpenedAttachment,
    attachment_field,
    mailbox_key_for_staff,
    open_message,
    report_key,
)
from app.extensions import db
from app.intake import followup
from app.models import (
    Attachment,
    CaseCode,
    CaseNote,
    Incident,
    Message,
    Report,
    ReportField,
    User,
)
from app.models.incident import (
    CLOSED,
    IN_REVIEW,
    NOT_VERIFIABLE,
    OUT_OF_SCOPE,
    RECEIVED,
    STATES,
    VERIFIED,
)
from app.models.user import ADMIN, MODERATOR
from app.text import is_blank, normalise_text

PrivateKeys = Mapping[int, X25519PrivateKey]

# The whole life of a case. A state missing on the left, or a target missing on the right, is
# refused: there is no way back, so a decision is never silently undone.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    RECEIVED: frozenset({IN_REVIEW}),
    IN_REVIEW: frozenset({VERIFIED, NOT_VERIFIABLE, OUT_OF_SCOPE}),
    VERIFIED: frozenset({CLOSED}),
    NOT_VERIFIABLE: frozenset({CLOSED}),
    OUT_OF_SCOPE: frozenset({CLOSED}),
    CLOSED: frozenset(),
}
OPEN_STATES = (RECEIVED, IN_REVIEW)

# The codebook questions the moderators code again: what happened, why, where, to whom. The
# reporter's own answers about themselves (role, age, support wished, ...) are not assessed.
CODED_QUESTIONS = (
    "incident_types",
    "perceived_because",
    "land",
    "town",
    "place_type",
    "platform",
    "target",
)
MAX_TEXT = 5000  # notes and messages, as on the reporter's side
SAFE_IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

STATE_TAG = "case:state:change"
ASSIGN_TAG = "case:assign"
CODING_TAG = "case:coding:change"
OPEN_TAG = "case:open"
NOTE_TAG = "case:note:add"
DUPLICATE_TAG = "case:duplicate:link"
MESSAGE_TAG = "case:message:send"
DELETION_TAG = "case:deletion:honour"


class CaseRefused(ValueError):
    """A case action is refused. ``reason`` is a stable code the view turns into a message."""

    reason = "refused"


class TransitionNotAllowed(CaseRefused):
    """The transition table has no arrow from the case's state to the wanted one."""

    reason = "transition"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a case in state {current!r} cannot move to {wanted!r}")
        self.current, self.wanted = current, wanted


class CaseNotCoded(CaseRefused):
    """Verifying needs the moderators' coding: verified incidents are counted by it."""

    reason = "not_coded"


class InvalidCoding(CaseRefused):
    """A code is unknown, missing, or one too many for a single-choice question."""

    reason = "coding"

    def __init__(self, question: str) -> None:
        super().__init__(f"the codes for {question!r} are refused")
        self.question = question


class AssigneeNotAllowed(CaseRefused):
    """Only active admins and moderators work on cases: only they may open the sealed data."""

    reason = "assignee"


class DuplicateRefused(CaseRefused):
    """A case cannot repeat itself, and duplicate links may not form a cycle."""

    reason = "duplicate"


class TextRefused(CaseRefused):
    """A note or message with nothing visible in it, or one that is too long."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the text is refused ({reason})")
        self.reason = reason


class PersonalDataGone(CaseRefused):
    """The report's personal data (and so its keys) was purged, or the case has no report."""

    reason = "purged"


class AttachmentNotFound(LookupError):
    """The case has no image at that position."""


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows. Every value is a code or id, already checked by the caller.

    ``states`` empty means every state; ``incident_type`` matches the most severe type (the one
    an incident is counted under); the dates bound the day the report came in.
    """

    states: tuple[str, ...] = OPEN_STATES
    land: str | None = None
    incident_type: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    assigned_to: int | None = None
    unassigned: bool = False
    with_messages: bool = False


@dataclass(frozen=True)
class QueueRow:
    id: int
    reported_on: dt.date
    state: str
    land: str
    most_severe_type: str
    assigned_to: int | None
    duplicate_of: int | None
    messages: int
    deletion_requested: bool


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_after: int | None  # the ``after`` of the next page; None on the last page


def _conditions(filters: QueueFilters, after_id: int | None) -> list[ColumnElement[bool]]:
    """Every condition of the page except the state."""
    conditions: list[ColumnElement[bool]] = []
    if after_id is not None:
        conditions.append(Incident.id < after_id)
    if filters.land:
        conditions.append(Incident.land == filters.land)
    if filters.incident_type:
        conditions.append(Incident.most_severe_type == filters.incident_type)
    if filters.received_from:
        conditions.append(Incident.reported_on >= filters.received_from)
    if filters.received_to:
        conditions.append(Incident.reported_on <= filters.received_to)
    if filters.unassigned:
        conditions.append(Incident.assigned_to.is_(None))
    elif filters.assigned_to is not None:
        conditions.append(Incident.assigned_to == filters.assigned_to)
    if filters.with_messages:
        conditions.append(exists().where(Message.report_id == Incident.report_id))
    return conditions


def _page_ids(filters: QueueFilters, after_id: int | None, limit: int) -> list[int]:
    conditions = _conditions(filters, after_id)
    if len(filters.states) <= 1:
        where = [*conditions, *(Incident.state == state for state in filters.states)]
        query = select(Incident.id).where(*where).order_by(Incident.id.desc()).limit(limit)
        return list(db.session.scalars(query))
    # Several states: one newest-first range of (state, id) per state, merged. Each part reads
    # at most ``limit`` rows; a plain IN would make both databases collect and sort every row
    # of those states before they could return the first page.
    parts = [
        select(Incident.id)
        .where(Incident.state == state, *conditions)
        .order_by(Incident.id.desc())
        .limit(limit)
        .subquery()
        for state in filters.states
    ]
    merged = union_all(*(select(part.c.id) for part in parts)).subquery()
    query = select(merged.c.id).order_by(merged.c.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def queue_page(filters: QueueFilters, after_id: int | None, limit: int) -> QueuePage:
    """One page of the queue, newest first, starting below ``after_id`` (keyset, no OFFSET).

    Guarantees that walking the pages by ``next_after`` returns every matching incident exactly
    once, even while new reports arrive (they have higher ids and appear on the first page).
    """
    ids = _page_ids(filters, after_id, limit + 1)
    more, ids = len(ids) > limit, ids[:limit]
    if not ids:
        return QueuePage([], None)
    incidents = db.session.scalars(
        select(Incident).where(Incident.id.in_(ids)).order_by(Incident.id.desc())
    ).all()
    report_ids = [item.report_id for item in incidents if item.report_id is not None]
    counts: dict[int, int] = {}
    deletion: set[int] = set()
    if report_ids:
        counts = {
            report_id: int(count)
            for report_id, count in db.session.execute(
                select(Message.report_id, func.count())
                .where(Message.report_id.in_(report_ids))
                .group_by(Message.report_id)
            )
        }
        deletion = set(
            db.session.scalars(
                select(Report.id).where(
                    Report.id.in_(report_ids), Report.deletion_requested_on.is_not(None)
                )
            )
        )
    rows = [
        QueueRow(
            id=item.id,
            reported_on=item.reported_on,
            state=item.state,
            land=item.land,
            most_severe_type=item.most_severe_type,
            assigned_to=item.assigned_to,
            duplicate_of=item.duplicate_of,
            messages=counts.get(item.report_id or 0, 0),
            deletion_requested=item.report_id in deletion,
        )
        for item in incidents
    ]
    return QueuePage(rows, rows[-1].id if more else None)


def state_counts(cap: int | None = None) -> dict[str, int]:
    """How many incidents are in each state (every state named, zero included).

    With ``cap`` each count stops at ``cap + 1``, so a value above ``cap`` means "more than
    ``cap``". That bounds the work to about ``cap`` index entries per state however large the
    table grows: exact counts over a million rows cost fifty times the queue page itself.
    """
    if cap is None:
        rows = db.session.execute(select(Incident.state, func.count()).group_by(Incident.state))
        found = {state: int(count) for state, count in rows}
        return {state: found.get(state, 0) for state in STATES}
    counts = {}
    for state in STATES:
        bounded = select(Incident.id).where(Incident.state == state).limit(cap + 1).subquery()
        counts[state] = int(db.session.scalar(select(func.count()).select_from(bounded)) or 0)
    return counts


def case_workers() -> list[User]:
    """The accounts a case can be assigned to: active admins and moderators."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_((ADMIN, MODERATOR)))
            .order_by(User.email)
        )
    )


def reporter_codes(incident: Incident, codebook: Codebook) -> dict[str, list[str]]:
    """The reporter's own classification: each choice question of ``codebook`` to its codes."""
    columns = Incident.__table__.columns
    codes: dict[str, list[str]] = {}
    for question in codebook.questions.values():
        if question.kind == "multi":
            codes[question.id] = incident.codes_for(question.id)
        elif question.kind in CHOICE_KINDS and question.id in columns:
            value = getattr(incident, question.id)
            codes[question.id] = [value] if value else []
    return codes


def moderator_codes(incident: Incident) -> dict[str, list[str]]:
    """The moderators' classification (empty until the case is coded)."""
    codes: dict[str, list[str]] = {}
    rows = db.session.execute(
        select(CaseCode.question, CaseCode.code)
        .where(CaseCode.incident_id == incident.id)
        .order_by(CaseCode.question, CaseCode.code)
    )
    for question, code in rows:
        codes.setdefault(question, []).append(code)
    return codes


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
        return _has_personal_data(self.report)


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


# --- Opening the sealed data -----------------------------------------------------------------


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
    messages: list[followup.ShownMessage] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"OpenedCase(fields={sorted(self.fields)}, notes={len(self.notes)})"


def report_of(incident: Incident) -> Report | None:
    """The raw report behind the case (None for an incident that came without one)."""
    return db.session.get(Report, incident.report_id) if incident.report_id else None


def _has_personal_data(report: Report | None) -> bool:
    return report is not None and report.purged_on is None and report.wrapped_data_key is not None


def _report_with_data(incident: Incident) -> Report:
    report = report_of(incident)
    if report is None or not _has_personal_data(report):
        raise PersonalDataGone("the case's personal data is not there (purged or never sent)")
    return report


def _note_field(number: int) -> str:
    return f"note:{number}"


def open_case(incident: Incident, *, by: User, keys: PrivateKeys) -> OpenedCase:
    """Open every sealed part of the case: the report's fields, notes, messages, image metadata.

    Writes one ``case:open`` event (with the counts of what was opened). Images themselves are
    opened one by one with ``open_attachment``.

    Raises:
        PersonalDataGone: when the report was purged or the case has no report.
        SealError: when the keys do not open the report (another organisation key, tampering).
    """
    report = _report_with_data(incident)
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
            open_sealed_text(data_key, report.id, _note_field(note.number), note.sealed_body),
        )
        for note in db.session.scalars(
            select(CaseNote).where(CaseNote.incident_id == incident.id).order_by(CaseNote.number)
        )
    ]
    messages = [
        followup.ShownMessage(
            message.number,
            message.author,
            message.kind,
            message.sent_on,
            open_message(mailbox_key, report, message.number, message.sealed_body),
        )
        for message in report.messages
    ]
    attachments = []
    # Only the metadata: each image is opened when it is looked at (open_attachment).
    images = db.session.execute(
        select(Attachment.position, Attachment.sealed_with, Attachment.sealed_metadata)
        .where(Attachment.report_id == report.id)
        .order_by(Attachment.position)
    )
    for position, sealed_with, sealed_metadata in images:
        opener = mailbox_key if sealed_with == "mailbox" else data_key
        name = f"{attachment_field(position)}:meta"
        meta = json.loads(open_sealed(opener, report.id, name, sealed_metadata))
        attachments.append(
            AttachmentInfo(
                position=position,
                mime_type=str(meta["mime_type"]),
                width=int(meta["width"]),
                height=int(meta["height"]),
                original_name=str(meta["original_name"]),
                added_later=sealed_with == "mailbox",
            )
        )
    record_event(
        OPEN_TAG,
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
    incident: Incident, position: int, *, by: User, keys: PrivateKeys
) -> OpenedAttachment:
    """Open one image of the case; writes a ``case:open`` event naming its position.

    Raises:
        PersonalDataGone: when the report was purged or the case has no report.
        AttachmentNotFound: when there is no image at ``position``.
        SealError: when the keys do not open it.
    """
    report = _report_with_data(incident)
    attachment = db.session.scalars(
        select(Attachment).where(Attachment.report_id == report.id, Attachment.position == position)
    ).first()
    if attachment is None:
        raise AttachmentNotFound(position)
    # Images added later through the status page are sealed under the mailbox key.
    if attachment.sealed_with == "mailbox":
        key = mailbox_key_for_staff(report, keys)
    else:
        key = report_key(report, keys)
    name = attachment_field(position)
    meta = json.loads(open_sealed(key, report.id, f"{name}:meta", attachment.sealed_metadata))
    opened = OpenedAttachment(
        position=position,
        data=open_sealed(key, report.id, name, attachment.sealed_image),
        mime_type=str(meta["mime_type"]),
        width=int(meta["width"]),
        height=int(meta["height"]),
        original_name=str(meta["original_name"]),
    )
    record_event(
        OPEN_TAG,
        f"Image {position} of case {incident.id} opened",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"report_id": report.id, "attachment": position},
    )
    return opened


# --- State changes ---------------------------------------------------------------------------


def _check_transition(incident: Incident, to: str) -> None:
    if to not in TRANSITIONS.get(incident.state, frozenset()):
        raise TransitionNotAllowed(incident.state, to)


def _move(incident: Incident, to: str, by: User, extra: dict[str, Any] | None = None) -> None:
    _check_transition(incident, to)
    before, incident.state = incident.state, to
    record_event(
        STATE_TAG,
        f"Case {incident.id} moved from {before} to {to}",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"from": before, "to": to, **(extra or {})},
    )


def start_review(incident: Incident, *, by: User) -> None:
    """received → in_review.

    Raises:
        TransitionNotAllowed: from any other state.
    """
    _move(incident, IN_REVIEW, by)


def verify_case(incident: Incident, *, by: User, today: dt.date) -> None:
    """in_review → verified, on ``today`` (``verified_on``). The case must be coded first.

    Raises:
        TransitionNotAllowed: from any state but in_review.
        CaseNotCoded: before ``code_case``; verified incidents are counted by that coding.
    """
    _check_transition(incident, VERIFIED)
    if incident.coded_on is None:
        raise CaseNotCoded("verifying needs the moderators' coding")
    _move(incident, VERIFIED, by)
    incident.verified_on = today
    incident.verification = VERIFIED


def mark_not_verifiable(incident: Incident, *, by: User) -> None:
    """in_review → not_verifiable.

    Raises:
        TransitionNotAllowed: from any other state.
    """
    _move(incident, NOT_VERIFIABLE, by)
    incident.verification = NOT_VERIFIABLE


def mark_out_of_scope(incident: Incident, *, by: User) -> None:
    """in_review → out_of_scope.

    Raises:
        TransitionNotAllowed: from any other state.
    """
    _move(incident, OUT_OF_SCOPE, by)
    incident.verification = OUT_OF_SCOPE


def close_case(incident: Incident, *, by: User, today: dt.date, retention_days: int) -> None:
    """verified / not_verifiable / out_of_scope → closed, on ``today`` (``closed_on``).

    The report's personal data gets its retention deadline, ``retention_days`` later (an earlier
    deadline from an honoured deletion request is kept; see ``retention.set_deadline_on_close``).

    Raises:
        TransitionNotAllowed: from received or in_review, or when already closed.
    """
    _check_transition(incident, CLOSED)
    report = report_of(incident)
    deadline = None
    if report is not None:
        deadline = retention.set_deadline_on_close(report, today, retention_days)
    _move(incident, CLOSED, by, {"retention_deadline": deadline.isoformat() if deadline else None})
    incident.closed_on = today


def move_case(
    incident: Incident, to: str, *, by: User, today: dt.date, retention_days: int
) -> None:
    """The named state change that leads to ``to`` (for the case page's buttons).

    Raises:
        TransitionNotAllowed: for an unknown state or one the table does not allow.
        CaseNotCoded: see ``verify_case``.
    """
    if to == IN_REVIEW:
        start_review(incident, by=by)
    elif to == VERIFIED:
        verify_case(incident, by=by, today=today)
    elif to == NOT_VERIFIABLE:
        mark_not_verifiable(incident, by=by)
    elif to == OUT_OF_SCOPE:
        mark_out_of_scope(incident, by=by)
    elif to == CLOSED:
        close_case(incident, by=by, today=today, retention_days=retention_days)
    else:
        raise TransitionNotAllowed(incident.state, to)


# --- Assignment, coding, duplicates ----------------------------------------------------------


def assign_case(incident: Incident, assignee: User | None, *, by: User) -> None:
    """Give the case to ``assignee``, or to nobody with None. Writes ``case:assign``.

    Raises:
        AssigneeNotAllowed: for a researcher or an inactive account.
    """
    if assignee is not None and (not assignee.active or assignee.role not in (ADMIN, MODERATOR)):
        raise AssigneeNotAllowed("only active admins and moderators work on cases")
    before = incident.assigned_to
    incident.assigned_to = assignee.id if assignee else None
    record_event(
        ASSIGN_TAG,
        f"Case {incident.id} assigned to {incident.assigned_to or 'nobody'}",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"from": before, "to": incident.assigned_to},
    )


def _checked_coding(
    answers: Mapping[str, Sequence[str]], codebook: Codebook
) -> dict[str, list[str]]:
    unknown = set(answers) - set(CODED_QUESTIONS)
    if unknown:
        raise InvalidCoding(sorted(unknown)[0])
    given = {question: list(dict.fromkeys(answers.get(question, ()))) for question in
             CODED_QUESTIONS}  # fmt: skip
    coding: dict[str, list[str]] = {}
    for question_id in CODED_QUESTIONS:
        question = codebook.question(question_id)
        codes = given[question_id]
        # As on the form: a question that does not apply (the platform of an incident that
        # was not online) is dropped, and only then is "required" checked.
        if not is_visible(question, given):
            continue
        if not set(codes) <= set(question.codes):
            raise InvalidCoding(question_id)
        if question.kind != "multi" and len(codes) > 1:
            raise InvalidCoding(question_id)
        if question.required and not codes:
            raise InvalidCoding(question_id)
        if codes:
            coding[question_id] = codes
    return coding


def code_case(
    incident: Incident,
    answers: Mapping[str, Sequence[str]],
    *,
    by: User,
    today: dt.date,
    codebook: Codebook | None = None,
) -> None:
    """Record the moderators' classification of ``incident``, replacing an earlier one.

    ``answers`` maps questions of ``CODED_QUESTIONS`` to codes of ``codebook`` (default: the
    current one), checked with the form's rules: known codes, one for a single choice, required
    questions answered, questions that do not apply dropped. Also records the day, the codebook
    version and the most severe coded type. Writes ``case:coding:change`` with the codes.

    Raises:
        InvalidCoding: naming the first question whose codes are refused.
    """
    codebook = codebook or current_codebook()
    coding = _checked_coding(answers, codebook)
    db.session.execute(delete(CaseCode).where(CaseCode.incident_id == incident.id))
    db.session.add_all(
        CaseCode(incident_id=incident.id, question=question, code=code)
        for question, codes in sorted(coding.items())
        for code in codes
    )
    incident.coded_on = today
    incident.coded_codebook_version = codebook.version
    incident.coded_most_severe_type = codebook.most_severe_type(coding["incident_types"])
    incident.coded_land = coding["land"][0]
    incident.coded_town = next(iter(coding.get("town", ())), None)
    incident.coded_place_type = coding["place_type"][0]
    incident.coded_target = coding["target"][0]
    record_event(
        CODING_TAG,
        f"Case {incident.id} coded",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"codebook_version": codebook.version, "codes": coding},
    )


def link_duplicate(incident: Incident, original: Incident | None, *, by: User) -> None:
    """Mark ``incident`` as a repeat of ``original`` (None: not a duplicate any more).

    Statistics count only incidents that are no one's duplicate, so a chain of duplicates is
    counted once. Writes ``case:duplicate:link``.

    Raises:
        DuplicateRefused: when ``original`` is ``incident`` itself, or is (through any chain)
            already a duplicate of ``incident`` — the link would make a cycle.
    """
    if original is not None:
        seen = {incident.id}
        step: Incident | None = original
        while step is not None:
            if step.id in seen:
                raise DuplicateRefused("the link would make a cycle")
            seen.add(step.id)
            step = db.session.get(Incident, step.duplicate_of) if step.duplicate_of else None
    before = incident.duplicate_of
    incident.duplicate_of = original.id if original else None
    record_event(
        DUPLICATE_TAG,
        f"Case {incident.id} marked as duplicate of {incident.duplicate_of or 'nothing'}",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"from": before, "to": incident.duplicate_of},
    )


# --- Notes, the mailbox, deletion -------------------------------------------------------------


def _checked_text(text: str) -> str:
    """The text as it is stored (``app.text``); nothing is refused for its characters."""
    text = normalise_text(text)
    if is_blank(text):
        raise TextRefused("empty")
    if len(text) > MAX_TEXT:
        raise TextRefused("too_long")
    return text


def add_note(
    incident: Incident, text: str, *, by: User, keys: PrivateKeys, today: dt.date
) -> CaseNote:
    """Seal an internal note with the report's data key (field ``note:<number>``).

    Only people who can open the report can read it; the purge of the report's keys makes
    it unreadable with everything else. Writes ``case:note:add`` with the note's number.

    Raises:
        TextRefused: for a text with nothing visible in it or a too long one.
        PersonalDataGone: when the report was purged or the case has no report.
        SealError: when the keys do not open the report.
    """
    text = _checked_text(text)
    report = _report_with_data(incident)
    data_key = report_key(report, keys)
    highest = db.session.scalar(
        select(func.max(CaseNote.number)).where(CaseNote.incident_id == incident.id)
    )
    number = (highest or 0) + 1
    note = CaseNote(
        incident_id=incident.id,
        author_id=by.id,
        number=number,
        sealed_body=seal(data_key, report.id, _note_field(number), text),
        written_on=today,
    )
    db.session.add(note)
    record_event(
        NOTE_TAG,
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
    report: Report, text: str, *, by: User, keys: PrivateKeys, today: dt.date
) -> Message:
    """Write to the reporter: sealed under the mailbox key, which their receipt code opens too.

    Writes ``case:message:send`` with the message's number.

    Raises:
        TextRefused: for a text with nothing visible in it or a too long one.
        PersonalDataGone: when the report (and so its mailbox) was purged.
        SealError: when the keys do not open the mailbox.
    """
    text = _checked_text(text)
    if not _has_personal_data(report):
        raise PersonalDataGone("the report's mailbox was purged")
    mailbox_key = mailbox_key_for_staff(report, keys)
    message = followup.add_message(
        report, mailbox_key, text, author=followup.STAFF, kind="message", today=today
    )
    incident_id = _incident_id_of(report)
    record_event(
        MESSAGE_TAG,
        f"Message {message.number} sent to the reporter of case {incident_id}",
        actor_id=by.id,
        target_type="incident",
        target_id=incident_id,
        details={"report_id": report.id, "message": message.number},
    )
    return message


def honour_deletion_request(incident: Incident, *, by: User, today: dt.date) -> None:
    """Have the report's personal data destroyed by the next purge (``retention``).

    Works whether the reporter asked on the status page or another way. The coded incident and
    the audit trail stay. Writes ``case:deletion:honour`` for the case's trail;
    ``retention.honour_deletion`` adds its own ``report:deletion:honour`` for the report's.

    Raises:
        PersonalDataGone: when the data is already purged or the case has no report.
    """
    report = _report_with_data(incident)
    retention.honour_deletion(report, today, by.id)
    deadline = report.retention_deadline
    record_event(
        DELETION_TAG,
        f"Deletion request for case {incident.id} honoured",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"report_id": report.id, "retention_deadline": deadline.isoformat() if deadline
                 else None},
    )  # fmt: skip
