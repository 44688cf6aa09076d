"""Record keys and key sums stay inside: no page, download, API answer or audit event has them.

With an incident's record key (or a small cell's key sum) anyone could undo the cell-key
perturbation, so they never leave the statistics' own modules.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from sqlalchemy import select

from app.api.tokens import create_token
from app.extensions import db
from app.models import AuditEvent, Incident
from app.models.incident import IN_REVIEW, VERIFIED
from app.models.user import ADMIN
from app.research.statistics import count_cells, parse_query
from tests.functional.conftest import hidden_value
from tests.functional.test_cases import CODING, report_through_the_form
from tests.functional.test_moderation_access import login
from tests.staff import make_staff

SECRET_NAMES = re.compile(r"record[_ ]?key|key[_ ]?sum", re.IGNORECASE)


def test_no_answer_and_no_audit_event_has_a_record_key_or_key_sum(intake_app: Flask) -> None:
    with intake_app.app_context():
        admin = make_staff(ADMIN, intake_app.config["TEST_RECOVERY_KEY"])
        _token, token = create_token("Institut", ["statistics"], today=dt.date.today())
        db.session.commit()
    client = intake_app.test_client()
    assert login(client, admin).status_code == 303
    csrf = hidden_value(client.get("/moderation/login").get_data(as_text=True), "csrf_token")
    case_ids = [report_through_the_form(intake_app)[0] for _ in range(6)]
    for case_id in case_ids:
        path = f"/moderation/cases/{case_id}"
        for action, data in (("state", {"to": IN_REVIEW}), ("code", CODING),
                             ("state", {"to": VERIFIED})):  # fmt: skip
            assert client.post(f"{path}/{action}", data={"csrf_token": csrf, **data}).status_code \
                == 303  # fmt: skip
    with intake_app.app_context():
        keys = db.session.scalars(select(Incident.record_key)).all()
        assert len(keys) == 6  # each has one, and it is counted (below)
    bearer = {"Authorization": f"Bearer {token}"}
    year = dt.date.today().year
    table = f"rows=land&columns=type&from={year - 1}-01"
    answers = {
        "case page": client.get(f"/moderation/cases/{case_ids[0]}"),
        "opened case": client.post(
            f"/moderation/cases/{case_ids[0]}/open", data={"csrf_token": csrf}
        ),  # fmt: skip
        "queue": client.get("/moderation/queue?state=all"),
        "audit log": client.get("/moderation/admin/audit"),
        "research table": client.get(f"/research/?{table}"),
        "CSV": client.get(f"/research/table.csv?{table}"),
        "JSON": client.get(f"/research/table.json?rows=period&period=month&from={year - 1}-01"),
        "API JSON": client.get(f"/api/v1/statistics?{table}", headers=bearer),
        "API CSV": client.get(f"/api/v1/statistics?{table}&format=csv", headers=bearer),
        "OpenAPI": client.get("/api/v1/openapi.json"),
        "public page": client.get("/de/statistics"),
        "public page, English": client.get(f"/en/statistics?year={year}"),
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, name
        assert not SECRET_NAMES.search(answer.get_data(as_text=True)), name
    with intake_app.test_request_context():
        # The tables did count the six incidents, so their keys were there to be leaked.
        assert sum(count_cells(parse_query({"rows": "land"})).key_sums.values()) == sum(keys)
        for event in db.session.scalars(select(AuditEvent)):
            assert not SECRET_NAMES.search(f"{event.summary} {event.details}"), event.tag
