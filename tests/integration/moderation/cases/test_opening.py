"""What the case page shows and opens (``cases.opening``), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit import AuditTag
from app.crypto.attachments import sanitise_image
from app.crypto.reports import Evidence, mailbox_key_for_reporter
from app.extensions import db
from app.intake import followup
from app.models import CaseNote, Incident, Message
from app.moderation import cases
from tests.factories import TODAY, store_sample_report
from tests.integration.moderation.cases.casework import RECEIPT_SECRET, Desk, events, new_case
from tests.integration.test_canary import image_with


def test_an_image_opens_with_its_sealed_type(desk: Desk) -> None:
    evidence = [Evidence(sanitise_image(image_with("egal")), "urlaub.png")]
    stored = store_sample_report(RECEIPT_SECRET, evidence=evidence)
    db.session.flush()
    incident = db.session.scalars(select(Incident)).one()
    image = cases.open_attachment(incident, 0, by=desk.moderator, keys=desk.keys)
    assert (image.meta.mime_type, image.meta.width, image.meta.height) == ("image/png", 64, 48)
    assert image.data.startswith(b"\x89PNG")
    with pytest.raises(cases.AttachmentNotFound):
        cases.open_attachment(incident, 1, by=desk.moderator, keys=desk.keys)
    assert events(AuditTag.CASE_OPEN)[0].details == {"report_id": stored.report.id, "attachment": 0}
    # An image the person added later on the status page is sealed under the mailbox key.
    mailbox = mailbox_key_for_reporter(stored.report, stored.receipt)
    later = Evidence(sanitise_image(image_with("später")), "später.png")
    followup.add_evidence(stored.report, mailbox, [later])
    db.session.flush()
    assert cases.open_attachment(incident, 1, by=desk.moderator, keys=desk.keys).meta.width == 64
    first, second = cases.open_case(incident, by=desk.moderator, keys=desk.keys).attachments
    assert (first.original_name, first.added_later) == ("urlaub.png", False)
    assert (second.original_name, second.added_later) == ("später.png", True)
    assert cases.case_facts(incident).attachments == 2


def test_messages_and_notes_count_without_opening(desk: Desk) -> None:
    incident = new_case()
    cases.add_note(incident, "eins", by=desk.moderator, keys=desk.keys, today=TODAY)
    facts = cases.case_facts(incident)
    assert (facts.notes, facts.messages, facts.attachments) == (1, 0, 0)
    assert facts.personal_data
    assert db.session.scalar(select(func.count()).select_from(CaseNote)) == 1
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert json.dumps(events(AuditTag.CASE_ADD_NOTE)[0].details) == '{"note": 1}'
