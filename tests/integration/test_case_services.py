"""The case services on SQLite and PostgreSQL: transitions, coding, duplicates, sealing, queue."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from app.codebook import current_codebook
from app.crypto import keyring
from app.crypto.attachments import sanitise_image
from app.crypto.keyring import UnlockedKeys
from app.crypto.reports import Evidence, mailbox_key_for_reporter, open_message
from app.extensions import db
from app.intake import followup
from app.intake.services import code_incident
from app.models import AuditEvent, CaseCode, CaseNote, Incident, Message, Report, User
from app.models.incident import (
    CLOSED,
    IN_REVIEW,
    NOT_VERIFIABLE,
    OUT_OF_SCOPE,
    RECEIVED,
    STATES,
    VERIFIED,
)
from app.models.user import MODERATOR, RESEARCHER
from app.moderation import cases
from app.retention import purge_due_reports
from tests.factories import TODAY, sample_answers, store_sample_report
from tests.integration.test_canary import image_with, rows_containing
from tests.staff import make_staff

RECEIPT_SECRET = b"r" * 32
LATER = TODAY + dt.timedelta(days=3)
CODING = {"incident_types": ["assault", "verbal_abuse"], "land": ["sn"],
          "place_type": ["street"], "target": ["person"]}  # fmt: skip


@dataclass
class Desk:
    """A moderator with the organisation keys, as a login would have unlocked them."""

    moderator: User
    keys: UnlockedKeys
    recovery: str


def user(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


@pytest.fixture
def desk(db_app: Flask) -> Iterator[Desk]:
    with db_app.app_context():
        recovery = keyring.initialise_keys(TODAY)
        db.session.commit()
        moderator = user(make_staff(MODERATOR, recovery).email)
        yield Desk(moderator, keyring.unlock_with_recovery(recovery), recovery)


def events(tag: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)
                                   .order_by(AuditEvent.id)))  # fmt: skip


def event_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def new_case(**changes: Any) -> Incident:
    stored = store_sample_report(RECEIPT_SECRET, **changes)
    db.session.flush()
    return db.session.scalars(select(Incident).where(Incident.report_id == stored.report.id)).one()


def bare_incident(state: str = RECEIVED, **changes: Any) -> Incident:
    """A coded incident without a report (as the benchmark builds them), in ``state``."""
    incident = code_incident(sample_answers(**changes), current_codebook(), today=TODAY,
                             source="form")  # fmt: skip
    incident.state = state
    db.session.add(incident)
    db.session.flush()
    return incident


# --- The transition table --------------------------------------------------------------------


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
                (event,) = events(cases.STATE_TAG)[-1:]
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
    assert events(cases.STATE_TAG)[-1].details["retention_deadline"] == (
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
    assert [e.details["to"] for e in events(cases.STATE_TAG)] == [
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


# --- Coding, assignment, duplicates ----------------------------------------------------------


def test_coding_uses_the_codebook_and_replaces_the_earlier_coding(desk: Desk) -> None:
    incident = new_case()
    cases.code_case(incident, CODING, by=desk.moderator, today=TODAY)
    assert cases.moderator_codes(incident) == {
        "incident_types": ["assault", "verbal_abuse"], "land": ["sn"],
        "place_type": ["street"], "target": ["person"],
    }  # fmt: skip
    assert incident.coded_most_severe_type == "assault"
    coded = (incident.coded_land, incident.coded_town, incident.coded_place_type,
             incident.coded_target)  # fmt: skip
    assert coded == ("sn", None, "street", "person")
    assert incident.coded_codebook_version == current_codebook().version
    # The reporter's own classification is untouched beside it.
    assert incident.codes_for("incident_types") == ["threat", "verbal_abuse"]
    assert cases.reporter_codes(incident, current_codebook())["place_type"] == ["public_transport"]
    online = {**CODING, "place_type": ["online"], "platform": ["telegram"]}
    cases.code_case(incident, online, by=desk.moderator, today=LATER)
    assert cases.moderator_codes(incident)["platform"] == ["telegram"]
    assert incident.coded_on == LATER
    # A platform for an incident that was not online does not apply and is dropped.
    cases.code_case(incident, {**CODING, "platform": ["telegram"]}, by=desk.moderator,
                    today=LATER)  # fmt: skip
    assert "platform" not in cases.moderator_codes(incident)
    (first, *_rest, last) = events(cases.CODING_TAG)
    assert first.details["codes"]["incident_types"] == ["assault", "verbal_abuse"]
    assert "platform" not in last.details["codes"]
    count = db.session.scalar(select(func.count()).select_from(CaseCode)
                              .where(CaseCode.incident_id == incident.id))  # fmt: skip
    assert count == 5


@pytest.mark.parametrize(
    ("change", "question"),
    [
        ({"incident_types": ["no_such_type"]}, "incident_types"),
        ({"incident_types": []}, "incident_types"),
        ({"land": ["sn", "be"]}, "land"),
        ({"land": []}, "land"),
        ({"place_type": ["online"]}, "platform"),  # online needs the platform
        ({"role": ["witness"]}, "role"),  # not a question the moderators code
    ],
)
def test_coding_refuses_what_the_codebook_does_not_allow(
    desk: Desk, change: dict[str, list[str]], question: str
) -> None:
    incident = new_case()
    with pytest.raises(cases.InvalidCoding) as refused:
        cases.code_case(incident, {**CODING, **change}, by=desk.moderator, today=TODAY)
    assert refused.value.question == question
    assert incident.coded_on is None
    assert events(cases.CODING_TAG) == []


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
    assert [e.details for e in events(cases.ASSIGN_TAG)] == [
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
    assert [e.details["to"] for e in events(cases.DUPLICATE_TAG)] == [
        first.id, second.id, first.id, None,
    ]  # fmt: skip


# --- Sealed parts ----------------------------------------------------------------------------


def test_notes_and_messages_are_sealed_and_open_for_key_holders(desk: Desk) -> None:
    stored = store_sample_report(RECEIPT_SECRET)
    db.session.flush()
    incident = db.session.scalars(select(Incident)).one()
    canary_note, canary_message = "Notizvogel-7f3a9c21e4", "Nachrichtenvogel-b81d5e0f66"
    note = cases.add_note(incident, f"  {canary_note}\r\nzweite Zeile ", by=desk.moderator,
                          keys=desk.keys, today=TODAY)  # fmt: skip
    assert note.number == 1
    message = cases.send_to_reporter(stored.report, f"Frage: {canary_message}",
                                     by=desk.moderator, keys=desk.keys, today=LATER)  # fmt: skip
    db.session.commit()
    assert rows_containing(canary_note) == []
    assert rows_containing(canary_message) == []
    opened = cases.open_case(incident, by=desk.moderator, keys=desk.keys)
    assert [n.text for n in opened.notes] == [f"{canary_note}\nzweite Zeile"]
    assert opened.notes[0].author_id == desk.moderator.id
    assert opened.messages[-1].text == f"Frage: {canary_message}"
    assert opened.messages[-1].author == "staff"
    assert opened.fields["description"].startswith("In der Straßenbahn")
    assert canary_note not in repr(opened)
    # The reporter reads the message with the receipt code alone.
    mailbox = mailbox_key_for_reporter(stored.report, stored.receipt)
    assert open_message(mailbox, stored.report, message.number, message.sealed_body) == (
        f"Frage: {canary_message}"
    )
    (opening,) = events(cases.OPEN_TAG)
    assert opening.details == {"report_id": stored.report.id, "fields": 3, "notes": 1,
                               "messages": 1, "attachments": 0}  # fmt: skip
    assert events(cases.NOTE_TAG)[0].details == {"note": 1}
    sent = events(cases.MESSAGE_TAG)[0]
    assert (sent.target_id, sent.details["message"]) == (incident.id, message.number)
    second = cases.add_note(incident, "noch eine", by=desk.moderator, keys=desk.keys, today=TODAY)
    assert second.number == 2


@pytest.mark.parametrize(("typed", "reason"), [
    ("   ", "empty"), ("x" * 5001, "too_long"), ("\u200b\u200e\x00\ufeff\r\n", "empty"),
])  # fmt: skip
def test_notes_and_messages_refuse_bad_text(desk: Desk, typed: str, reason: str) -> None:
    incident = new_case()
    report = db.session.get(Report, incident.report_id)
    assert report is not None
    before = event_count()
    with pytest.raises(cases.TextRefused) as refused:
        cases.add_note(incident, typed, by=desk.moderator, keys=desk.keys, today=TODAY)
    assert refused.value.reason == reason
    with pytest.raises(cases.TextRefused):
        cases.send_to_reporter(report, typed, by=desk.moderator, keys=desk.keys, today=TODAY)
    assert event_count() == before


def test_notes_and_messages_keep_every_script_and_lose_only_harmful_characters(
    desk: Desk,
) -> None:
    incident = new_case()
    report = db.session.get(Report, incident.report_id)
    assert report is not None
    kept = "می\u200cخواهم 🤦\u200d♀\ufe0f \u061cمرحبا\u200f Not\u00adiz \u202eumgedreht"
    cases.add_note(incident, kept + "\x00\r\n", by=desk.moderator, keys=desk.keys, today=TODAY)
    cases.send_to_reporter(report, "\ufeff" + kept + "\ud800", by=desk.moderator,
                           keys=desk.keys, today=TODAY)  # fmt: skip
    opened = cases.open_case(incident, by=desk.moderator, keys=desk.keys)
    assert [note.text for note in opened.notes] == [kept]
    assert opened.messages[-1].text == kept


def test_deletion_is_honoured_and_the_purge_leaves_nothing_to_open(desk: Desk) -> None:
    incident = new_case()
    report = db.session.get(Report, incident.report_id)
    assert report is not None
    cases.add_note(incident, "vor der Löschung", by=desk.moderator, keys=desk.keys, today=TODAY)
    cases.honour_deletion_request(incident, by=desk.moderator, today=LATER)
    assert (report.deletion_requested_on, report.retention_deadline) == (LATER, LATER)
    (case_event,) = events(cases.DELETION_TAG)
    assert case_event.target_id == incident.id
    assert len(events("report:deletion:honour")) == 1  # the retention module's own event
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


def test_an_image_opens_with_its_sealed_type(desk: Desk) -> None:
    evidence = [Evidence(sanitise_image(image_with("egal")), "urlaub.png")]
    stored = store_sample_report(RECEIPT_SECRET, evidence=evidence)
    db.session.flush()
    incident = db.session.scalars(select(Incident)).one()
    image = cases.open_attachment(incident, 0, by=desk.moderator, keys=desk.keys)
    assert (image.mime_type, image.width, image.height) == ("image/png", 64, 48)
    assert image.data.startswith(b"\x89PNG")
    with pytest.raises(cases.AttachmentNotFound):
        cases.open_attachment(incident, 1, by=desk.moderator, keys=desk.keys)
    assert events(cases.OPEN_TAG)[0].details == {"report_id": stored.report.id, "attachment": 0}
    # An image the person added later on the status page is sealed under the mailbox key.
    mailbox = mailbox_key_for_reporter(stored.report, stored.receipt)
    later = Evidence(sanitise_image(image_with("später")), "später.png")
    followup.add_evidence(stored.report, mailbox, [later])
    db.session.flush()
    assert cases.open_attachment(incident, 1, by=desk.moderator, keys=desk.keys).width == 64
    first, second = cases.open_case(incident, by=desk.moderator, keys=desk.keys).attachments
    assert (first.original_name, first.added_later) == ("urlaub.png", False)
    assert (second.original_name, second.added_later) == ("später.png", True)
    assert cases.case_facts(incident).attachments == 2


# --- The queue -------------------------------------------------------------------------------


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


def test_messages_and_notes_count_without_opening(desk: Desk) -> None:
    incident = new_case()
    cases.add_note(incident, "eins", by=desk.moderator, keys=desk.keys, today=TODAY)
    facts = cases.case_facts(incident)
    assert (facts.notes, facts.messages, facts.attachments) == (1, 0, 0)
    assert facts.personal_data
    assert db.session.scalar(select(func.count()).select_from(CaseNote)) == 1
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert json.dumps(events(cases.NOTE_TAG)[0].details) == '{"note": 1}'
