"""State changes, assignment, duplicates, honoured deletions (``cases.workflow``)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.audit import AuditTag
from app.extensions import db
from app.models import Incident, Report
from app.models.incident import CLOSED, IN_REVIEW, NOT_VERIFIABLE, OUT_OF_SCOPE, STATES, VERIFIED
from app.models.user import MODERATOR, RESEARCHER
from app.moderation import cases
from app.retention import purge_due_reports
from tests.factories import TODAY
from tests.integration.moderation.cases.casework import (
    CODING,
    LATER,
    Desk,
    bare_incident,
    event_count,
    events,
    new_case,
    user,
)
from tests.staff import make_staff


def test_every_transition_is_allowed_or_refused_as_the_table_says(desk: Desk) -> None:
    incident = new_case()
    for current in STATES:
        for wanted in STATES:
            incident.state, incident.coded_on = current, TODAY
            before = event_count()
            allowed = wanted in cases.TRANSITIONS[current]
            if allowed:
                cases.move_case(incident, wanted, by=desk.moderator, today=LATER,
                                retention_days=30)  # fmt: skip
                assert incident.state == wanted
                (event,) = events(AuditTag.CASE_CHANGE_STATE)[-1:]
                assert event.details["from"] == current
                assert event.details["to"] == wanted
                assert event.actor_id == desk.moderator.id
                assert event.target_id == incident.id
            else:
                with pytest.raises(cases.TransitionNotAllowed):
                    cases.move_case(incident, wanted, by=desk.moderator, today=LATER,
                                    retention_days=30)  # fmt: skip
                assert incident.state == current
            assert event_count() == before + (1 if allowed else 0)
    with pytest.raises(cases.TransitionNotAllowed):
        cases.move_case(incident, "deleted", by=desk.moderator, today=LATER, retention_days=30)


def test_the_named_changes_walk_a_case_from_received_to_closed(desk: Desk) -> None:
    incident = new_case()
    report = db.session.get(Report, incident.report_id)
    assert report is not None
    cases.start_review(incident, by=desk.moderator)
    with pytest.raises(cases.CaseNotCoded):
        cases.verify_case(incident, by=desk.moderator, today=LATER)
    assert incident.state == IN_REVIEW
    cases.code_case(incident, CODING, by=desk.moderator, today=LATER)
    cases.verify_case(incident, by=desk.moderator, today=LATER)
    assert (incident.state, incident.verified_on) == (VERIFIED, LATER)
    with pytest.raises(cases.TransitionNotAllowed):
        cases.mark_not_verifiable(incident, by=desk.moderator)
    cases.close_case(incident, by=desk.moderator, today=LATER, retention_days=180)
    assert (incident.state, incident.closed_on) == (CLOSED, LATER)
    assert incident.verification == VERIFIED  # the decision outlives the closing
    assert report.retention_deadline == LATER + dt.timedelta(days=180)
    assert events(AuditTag.CASE_CHANGE_STATE)[-1].details["retention_deadline"] == (
        (LATER + dt.timedelta(days=180)).isoformat()
    )
    with pytest.raises(cases.TransitionNotAllowed):
        cases.start_review(incident, by=desk.moderator)
    other = new_case()
    with pytest.raises(cases.TransitionNotAllowed):
        cases.mark_out_of_scope(other, by=desk.moderator)  # a case is reviewed first
    cases.start_review(other, by=desk.moderator)
    cases.mark_out_of_scope(other, by=desk.moderator)
    assert (other.state, other.verification) == (OUT_OF_SCOPE, OUT_OF_SCOPE)
    third = new_case()
    cases.start_review(third, by=desk.moderator)
    cases.mark_not_verifiable(third, by=desk.moderator)
    assert (third.state, third.verification) == (NOT_VERIFIABLE, NOT_VERIFIABLE)
    assert [e.details["to"] for e in events(AuditTag.CASE_CHANGE_STATE)] == [
        IN_REVIEW, VERIFIED, CLOSED, IN_REVIEW, OUT_OF_SCOPE, IN_REVIEW, NOT_VERIFIABLE,
    ]  # fmt: skip


def test_closing_keeps_an_earlier_deadline_from_an_honoured_deletion(desk: Desk) -> None:
    incident = new_case()
    report = db.session.get(Report, incident.report_id)
    assert report is not None
    cases.honour_deletion_request(incident, by=desk.moderator, today=TODAY)
    cases.start_review(incident, by=desk.moderator)
    cases.mark_out_of_scope(incident, by=desk.moderator)
    cases.close_case(incident, by=desk.moderator, today=LATER, retention_days=180)
    assert report.retention_deadline == TODAY
    bare = bare_incident(OUT_OF_SCOPE)  # no report: nothing to give a deadline
    cases.close_case(bare, by=desk.moderator, today=LATER, retention_days=180)
    assert bare.state == CLOSED


def test_assignment_only_to_people_who_may_open_cases(desk: Desk) -> None:
    incident = new_case()
    cases.assign_case(incident, desk.moderator, by=desk.moderator)
    assert incident.assigned_to == desk.moderator.id
    researcher = user(make_staff(RESEARCHER, None).email)
    with pytest.raises(cases.AssigneeNotAllowed):
        cases.assign_case(incident, researcher, by=desk.moderator)
    colleague = user(make_staff(MODERATOR, desk.recovery).email)
    colleague.active = False
    with pytest.raises(cases.AssigneeNotAllowed):
        cases.assign_case(incident, colleague, by=desk.moderator)
    cases.assign_case(incident, None, by=desk.moderator)
    assert incident.assigned_to is None
    assert [e.details for e in events(AuditTag.CASE_ASSIGN)] == [
        {"from": None, "to": desk.moderator.id}, {"from": desk.moderator.id, "to": None},
    ]  # fmt: skip
    assert desk.moderator in cases.case_workers()
    assert researcher not in cases.case_workers()


def test_duplicates_link_without_cycles(desk: Desk) -> None:
    first, second, third = (bare_incident() for _ in range(3))
    with pytest.raises(cases.DuplicateRefused):
        cases.link_duplicate(first, first, by=desk.moderator)
    cases.link_duplicate(second, first, by=desk.moderator)
    cases.link_duplicate(third, second, by=desk.moderator)
    with pytest.raises(cases.DuplicateRefused):
        cases.link_duplicate(first, second, by=desk.moderator)
    with pytest.raises(cases.DuplicateRefused):
        cases.link_duplicate(first, third, by=desk.moderator)  # through the chain
    assert first.duplicate_of is None
    assert cases.case_facts(first).duplicates == [second.id]
    cases.link_duplicate(third, first, by=desk.moderator)  # relinking elsewhere is fine
    cases.link_duplicate(second, None, by=desk.moderator)
    assert (second.duplicate_of, third.duplicate_of) == (None, first.id)
    counted = db.session.scalar(select(func.count()).select_from(Incident)
                                .where(Incident.duplicate_of.is_(None)))  # fmt: skip
    assert counted == 2  # the chain counts once, the unlinked case again
    assert [e.details["to"] for e in events(AuditTag.CASE_LINK_DUPLICATE)] == [
        first.id, second.id, first.id, None,
    ]  # fmt: skip


def test_deletion_is_honoured_and_the_purge_leaves_nothing_to_open(desk: Desk) -> None:
    incident = new_case()
    report = db.session.get(Report, incident.report_id)
    assert report is not None
    cases.add_note(incident, "vor der Löschung", by=desk.moderator, keys=desk.keys, today=TODAY)
    cases.honour_deletion_request(incident, by=desk.moderator, today=LATER)
    assert (report.deletion_requested_on, report.retention_deadline) == (LATER, LATER)
    (case_event,) = events(AuditTag.CASE_HONOUR_DELETION)
    assert case_event.target_id == incident.id
    assert len(events("report:honour_deletion")) == 1  # the retention module's own event
    db.session.commit()
    assert purge_due_reports(LATER).reports == 1
    db.session.refresh(report)
    assert not cases.case_facts(incident).personal_data
    for attempt in (
        lambda: cases.open_case(incident, by=desk.moderator, keys=desk.keys),
        lambda: cases.open_attachment(incident, 0, by=desk.moderator, keys=desk.keys),
        lambda: cases.add_note(incident, "x", by=desk.moderator, keys=desk.keys, today=LATER),
        lambda: cases.send_to_reporter(report, "y", by=desk.moderator, keys=desk.keys, today=LATER),
        lambda: cases.honour_deletion_request(incident, by=desk.moderator, today=LATER),
    ):
        with pytest.raises(cases.PersonalDataGone):
            attempt()
    with pytest.raises(cases.PersonalDataGone):
        cases.open_case(bare_incident(), by=desk.moderator, keys=desk.keys)
    # The coded incident stays for the statistics.
    assert db.session.get(Incident, incident.id) is not None
