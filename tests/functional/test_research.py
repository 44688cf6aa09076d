"""The researchers' area: a researcher builds a protected table and downloads it."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.models.user import RESEARCHER
from app.research.exports import EXPORT_TAG
from tests.functional.test_moderation_access import login
from tests.integration.test_statistics import counted_incident
from tests.staff import make_staff


@pytest.fixture
def researcher(intake_app: Flask) -> FlaskClient:
    with intake_app.test_request_context():
        staff = make_staff(RESEARCHER, None)
        for _ in range(8):
            counted_incident(coded_land="sn", day=dt.date(2026, 4, 2))
        for _ in range(2):
            counted_incident(coded_land="th", day=dt.date(2026, 4, 2))
        counted_incident(coded_land="by", day=dt.date(2026, 4, 2), coded_place_type="education")
        db.session.commit()
    client = intake_app.test_client()
    assert login(client, staff).status_code == 303
    return client


def test_the_form_keeps_its_choices_and_shows_a_protected_table(researcher: FlaskClient) -> None:
    empty = researcher.get("/research/")
    assert empty.status_code == 200
    assert "Tabelle erstellen" in empty.get_data(as_text=True)
    page = researcher.get("/research/?rows=land&verification=verified&land=sn&land=th&land=by"
                          "&from=2026-01")  # fmt: skip
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<option value="land" selected>' in html
    assert '<option value="sn" selected>' in html
    assert 'value="2026-01"' in html
    assert "<td>8</td>" in html  # Saxony
    assert "<td>2</td>" not in html  # Thuringia (and Bavaria's one) are withheld
    assert "<td>11</td>" in html  # the total
    assert 'title="aus Datenschutzgründen nicht veröffentlicht">x</abbr>' in html
    assert "/research/table.csv?" in html


def test_a_query_that_cannot_be_built_is_explained_and_keeps_the_form(
    researcher: FlaskClient,
) -> None:
    page = researcher.get("/research/?rows=land&columns=land&land=sn")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "columns" in html
    assert 'role="alert"' in html
    assert '<option value="sn" selected>' in html
    assert researcher.get("/research/table.json?rows=nothing").status_code == 400


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1989-12", "2026-13", "２０２６-０１"])
def test_months_outside_the_range_are_refused_on_every_path(
    researcher: FlaskClient, month: str
) -> None:
    """``from=0000-01`` and ``to=9999-12`` once raised inside ``datetime`` (issue 12)."""
    for name in ("from", "to"):
        page = researcher.get("/research/", query_string={"rows": "land", name: month})
        assert page.status_code == 400
        html = page.get_data(as_text=True)
        assert f"„{name}“ ist ein Monat in der Form JJJJ-MM von 1990-01 bis 2099-12" in html
        assert f'name="{name}" value="{month}"' in html  # what was typed stays
        for file_format in ("csv", "json"):
            download = researcher.get(f"/research/table.{file_format}",
                                      query_string={"rows": "land", name: month})  # fmt: skip
            assert download.status_code == 400
            assert download.get_json()["parameter"] == name


def test_the_form_reads_a_month_typed_with_spaces(researcher: FlaskClient) -> None:
    page = researcher.get("/research/", query_string={"rows": "land", "from": " 2026-01 ",
                                                      "to": "2099-12"})  # fmt: skip
    assert page.status_code == 200
    assert "<td>11</td>" in page.get_data(as_text=True)


def test_downloads_are_protected_escaped_and_audited(
    intake_app: Flask, researcher: FlaskClient
) -> None:
    response = researcher.get("/research/table.csv?rows=place_type")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="meldeportal-')
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    counts = {line["place_type"]: line["count"] for line in lines}
    reasons = {line["place_type"]: line["suppressed"] for line in lines}
    assert (counts["education"], reasons["education"]) == ("", "primary")  # one incident
    assert (counts["street"], reasons["street"]) == ("", "complementary")  # 11 - 10 = 1
    assert counts["_total"] == "11"
    assert not [c for c in counts.values() if c and 0 < int(c) < 5]
    as_json = researcher.get("/research/table.json?rows=land").get_json()
    cells = {cell["row"]: cell["count"] for cell in as_json["cells"]}
    assert cells["sn"] == 8
    assert cells["th"] is None
    with intake_app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == EXPORT_TAG)).all()
        assert [event.details["format"] for event in events] == ["csv", "json"]
        assert all(event.actor_id is not None for event in events)


def test_the_table_says_which_decisions_it_counts(researcher: FlaskClient) -> None:
    html = researcher.get("/research/?rows=land&verification=verified,not_verifiable")
    text = html.get_data(as_text=True)
    assert "Gezählt: vom Moderationsteam bestätigt, plausibel, aber nicht überprüfbar." in text
