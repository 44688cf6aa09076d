"""The moderators' coding (``cases.coding``), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit import AuditTag
from app.codebook import current_codebook
from app.extensions import db
from app.models import CaseCode
from app.moderation import cases
from tests.factories import TODAY
from tests.integration.moderation.cases.casework import CODING, LATER, Desk, events, new_case


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
    (first, *_rest, last) = events(AuditTag.CASE_CODE)
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
    assert events(AuditTag.CASE_CODE) == []
