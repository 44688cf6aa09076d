"""The queue (``cases.queue``): keyset pages, filters, counts and its index."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text

from app.extensions import db
from app.models import Incident, Report
from app.models.incident import CLOSED, IN_REVIEW, OUT_OF_SCOPE, RECEIVED, STATES, VERIFIED
from app.moderation import cases
from tests.factories import TODAY
from tests.integration.moderation.cases.casework import Desk, bare_incident, new_case


def walk(filters: cases.QueueFilters, limit: int = 10) -> list[list[int]]:
    pages, after = [], None
    while True:
        page = cases.queue_page(filters, after, limit)
        pages.append([row.id for row in page.rows])
        if page.next_after is None:
            return pages
        after = page.next_after


def test_keyset_pages_return_each_case_once_newest_first(desk: Desk) -> None:
    states = [RECEIVED, IN_REVIEW, VERIFIED, CLOSED, RECEIVED]
    lands = ["sn", "be", "by"]
    made = [bare_incident(states[n % 5], land=lands[n % 3]).id for n in range(25)]
    newest_first = sorted(made, reverse=True)

    pages = walk(cases.QueueFilters(states=()))
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [case for page in pages for case in page] == newest_first

    def expected(keep: Any) -> list[int]:
        return [case for case in newest_first if keep(db.session.get(Incident, case))]

    open_cases = walk(cases.QueueFilters())  # received and in review, merged per state
    assert [case for page in open_cases for case in page] == expected(
        lambda i: i.state in (RECEIVED, IN_REVIEW)
    )
    assert [len(page) for page in open_cases] == [10, 5]
    saxony = walk(cases.QueueFilters(states=(RECEIVED,), land="sn"), limit=3)
    assert [case for page in saxony for case in page] == expected(
        lambda i: i.state == RECEIVED and i.land == "sn"
    )
    # A report arriving while someone pages does not shift the pages: no repeats, no gaps.
    first = cases.queue_page(cases.QueueFilters(states=()), None, 10)
    bare_incident()
    second = cases.queue_page(cases.QueueFilters(states=()), first.next_after, 10)
    assert second.rows[0].id == newest_first[10]
    assert cases.queue_page(cases.QueueFilters(states=(OUT_OF_SCOPE,)), None, 10).rows == []


def test_queue_filters(desk: Desk) -> None:
    early = bare_incident(land="be", incident_types=["assault"])
    early.reported_on = TODAY - dt.timedelta(days=10)
    mine = new_case()
    cases.assign_case(mine, desk.moderator, by=desk.moderator)
    with_message = new_case()
    report = db.session.get(Report, with_message.report_id)
    assert report is not None
    cases.send_to_reporter(report, "Hallo", by=desk.moderator, keys=desk.keys, today=TODAY)
    report.deletion_requested_on = TODAY
    db.session.flush()

    def ids(**filters: Any) -> list[int]:
        page = cases.queue_page(cases.QueueFilters(**filters), None, 50)
        return [row.id for row in page.rows]

    everything = [with_message.id, mine.id, early.id]
    assert ids() == everything
    assert ids(land="be") == [early.id]
    assert ids(incident_type="assault") == [early.id]
    assert ids(incident_type="threat") == [with_message.id, mine.id]
    assert ids(received_from=TODAY) == [with_message.id, mine.id]
    assert ids(received_to=TODAY - dt.timedelta(days=1)) == [early.id]
    assert ids(assigned_to=desk.moderator.id) == [mine.id]
    assert ids(unassigned=True) == [with_message.id, early.id]
    assert ids(with_messages=True) == [with_message.id]
    assert ids(states=(VERIFIED,)) == []
    (row, *_rest) = cases.queue_page(cases.QueueFilters(), None, 50).rows
    assert (row.messages, row.deletion_requested) == (1, True)
    assert cases.state_counts() == {state: (3 if state == RECEIVED else 0) for state in STATES}
    # Bounded counts stop one above the cap: "more than 2".
    assert cases.state_counts(cap=2) == {state: (3 if state == RECEIVED else 0) for state in STATES}
    assert cases.state_counts(cap=5)[RECEIVED] == 3


def test_the_first_page_reads_an_index(desk: Desk) -> None:
    """The newest-first page of one state walks (state, id): no table scan, no sort."""
    for _ in range(3):
        bare_incident()
    query = (
        select(Incident.id).where(Incident.state == RECEIVED).order_by(Incident.id.desc()).limit(50)
    )
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables otherwise
        plan = " ".join(str(row[0]) for row in db.session.execute(text(f"EXPLAIN {compiled}")))
        assert "ix_incident_state_id" in plan
        assert "Sort" not in plan
    else:
        plan = " ".join(str(row[-1]) for row in
                        db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))  # fmt: skip
        assert "USING COVERING INDEX ix_incident_state_id" in plan
        assert "TEMP B-TREE" not in plan
