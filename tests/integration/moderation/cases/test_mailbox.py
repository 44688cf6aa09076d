"""Notes and messages on a case (``cases.mailbox``): sealed, checked, every script kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit import AuditTag
from app.crypto.reports import mailbox_key_for_reporter, open_message
from app.extensions import db
from app.models import Incident, Report
from app.moderation import cases
from tests.factories import TODAY, store_sample_report
from tests.integration.moderation.cases.casework import (
    LATER,
    RECEIPT_SECRET,
    Desk,
    event_count,
    events,
    new_case,
)
from tests.integration.test_canary import rows_containing


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
    (opening,) = events(AuditTag.CASE_OPEN)
    assert opening.details == {"report_id": stored.report.id, "fields": 3, "notes": 1,
                               "messages": 1, "attachments": 0}  # fmt: skip
    assert events(AuditTag.CASE_ADD_NOTE)[0].details == {"note": 1}
    sent = events(AuditTag.CASE_SEND_MESSAGE)[0]
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
