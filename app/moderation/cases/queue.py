"""The queue: one keyset page of cases at a time, newest first, and the counts per state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select, union_all

from app.extensions import db
from app.models import Incident, Message, Report
from app.models.incident import IN_REVIEW, RECEIVED, STATES

# The states of a case that still needs work: the queue shows them unless asked otherwise.
OPEN_STATES = (RECEIVED, IN_REVIEW)


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
