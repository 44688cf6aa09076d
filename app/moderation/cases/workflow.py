"""The life of a case: state changes, assignment, duplicates, an honoured deletion request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app import retention
from app.audit import AuditTag, record_event
from app.extensions import db
from app.models import Incident, User
from app.models.incident import CLOSED, IN_REVIEW, NOT_VERIFIABLE, OUT_OF_SCOPE, RECEIVED, VERIFIED
from app.models.user import ADMIN, MODERATOR
from app.moderation.cases.errors import (
    AssigneeNotAllowed,
    CaseNotCoded,
    DuplicateRefused,
    TransitionNotAllowed,
)
from app.moderation.cases.opening import report_of, report_with_data

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


def _check_transition(incident: Incident, to: str) -> None:
    if to not in TRANSITIONS.get(incident.state, frozenset()):
        raise TransitionNotAllowed(incident.state, to)


def _move(incident: Incident, to: str, by: User, extra: dict[str, Any] | None = None) -> None:
    _check_transition(incident, to)
    before, incident.state = incident.state, to
    record_event(
        AuditTag.CASE_CHANGE_STATE,
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


def case_workers() -> list[User]:
    """The accounts a case can be assigned to: active admins and moderators."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_((ADMIN, MODERATOR)))
            .order_by(User.email)
        )
    )


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
        AuditTag.CASE_ASSIGN,
        f"Case {incident.id} assigned to {incident.assigned_to or 'nobody'}",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"from": before, "to": incident.assigned_to},
    )


def link_duplicate(incident: Incident, original: Incident | None, *, by: User) -> None:
    """Mark ``incident`` as a repeat of ``original`` (None: not a duplicate any more).

    Statistics count only incidents that are no one's duplicate, so a chain of duplicates is
    counted once. Writes ``case:link_duplicate``.

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
        AuditTag.CASE_LINK_DUPLICATE,
        f"Case {incident.id} marked as duplicate of {incident.duplicate_of or 'nothing'}",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"from": before, "to": incident.duplicate_of},
    )


def honour_deletion_request(incident: Incident, *, by: User, today: dt.date) -> None:
    """Have the report's personal data destroyed by the next purge (``retention``).

    Works whether the reporter asked on the status page or another way. The coded incident and
    the audit trail stay. Writes ``case:honour_deletion`` for the case's trail;
    ``retention.honour_deletion`` adds its own ``report:honour_deletion`` for the report's.

    Raises:
        PersonalDataGone: when the data is already purged or the case has no report.
    """
    report = report_with_data(incident)
    retention.honour_deletion(report, today, by.id)
    deadline = report.retention_deadline
    record_event(
        AuditTag.CASE_HONOUR_DELETION,
        f"Deletion request for case {incident.id} honoured",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"report_id": report.id, "retention_deadline": deadline.isoformat() if deadline
                 else None},
    )  # fmt: skip
