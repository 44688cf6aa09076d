"""The researchers' area: a researcher builds a protected table and downloads it.

Every number is checked against the cell-key method: ``statistics_perturbation(app).publish``
of the count and record-key sum of exactly the incidents the cell counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit import AuditTag
from app.extensions import db
from app.models import AuditEvent
from app.models.user import RESEARCHER
from tests.functional.test_moderation_access import login
from tests.integration.test_statistics import counted_incident
from tests.integration.test_statistics_page import html_tables, published_keys
from tests.staff import make_staff

CAPTION = "Vorfälle nach Bundesland"


@pytest.fixture
def record_keys(intake_app: Flask) -> dict[str, list[int]]:
    """The counted incidents' record keys by Land: 8 in Saxony, 2 in Thuringia, 1 in Bavaria
    (at a school; the others in the street)."""
    with intake_app.test_request_context():
        made = {
            "sn": [counted_incident(coded_land="sn", day=dt.date(2026, 4, 2)) for _ in range(8)],
            "th": [counted_incident(coded_land="th", day=dt.date(2026, 4, 2)) for _ in range(2)],
            "by": [counted_incident(coded_land="by", day=dt.date(2026, 4, 2),
                                    coded_place_type="education")],
        }  # fmt: skip
        db.session.commit()
        return {land: [incident.record_key for incident in group] for land, group in made.items()}


@pytest.fixture
def researcher(intake_app: Flask, record_keys: dict[str, list[int]]) -> FlaskClient:
    with intake_app.test_request_context():
        staff = make_staff(RESEARCHER, None)
        db.session.commit()
    client = intake_app.test_client()
    assert login(client, staff).status_code == 303
    return client


def test_the_form_keeps_its_choices_and_shows_a_protected_table(
    intake_app: Flask, researcher: FlaskClient, record_keys: dict[str, list[int]]
) -> None:
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
    table = html_tables(html)[CAPTION]
    sn, th, by = record_keys["sn"], record_keys["th"], record_keys["by"]
    assert table.value("Sachsen") == published_keys(intake_app, sn)
    # Thuringia's two and Bavaria's one are published like any cell: as 0 or 5, never withheld.
    assert table.value("Thüringen") == published_keys(intake_app, th)
    assert table.value("Bayern") == published_keys(intake_app, by)
    assert {table.value("Thüringen"), table.value("Bayern")} <= {0, 5}
    assert table.value("Insgesamt") == published_keys(intake_app, sn, th, by)
    assert table.value("Berlin") == 0
    assert not [n for cells in table.rows.values() for n in map(int, cells) if 0 < n < 5]
    assert "<abbr" not in html
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


def test_the_form_reads_a_month_typed_with_spaces(
    intake_app: Flask, researcher: FlaskClient, record_keys: dict[str, list[int]]
) -> None:
    page = researcher.get("/research/", query_string={"rows": "land", "from": " 2026-01 ",
                                                      "to": "2099-12"})  # fmt: skip
    assert page.status_code == 200
    table = html_tables(page.get_data(as_text=True))[CAPTION]
    assert table.value("Insgesamt") == published_keys(intake_app, *record_keys.values())


def test_downloads_are_protected_escaped_and_audited(
    intake_app: Flask, researcher: FlaskClient, record_keys: dict[str, list[int]]
) -> None:
    response = researcher.get("/research/table.csv?rows=place_type")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="meldeportal-')
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert reader.fieldnames == ["place_type", "place_type_label", "count", "k", "verification",
                                 "types", "codebook_versions"]  # fmt: skip
    lines = list(reader)
    counts = {line["place_type"]: int(line["count"]) for line in lines}  # every one a number
    sn, th, by = record_keys["sn"], record_keys["th"], record_keys["by"]
    assert counts["education"] == published_keys(intake_app, by)  # one incident: 0 or 5
    assert counts["street"] == published_keys(intake_app, sn, th)
    assert counts["_total"] == published_keys(intake_app, sn, th, by)
    assert counts["online"] == 0
    assert {line["k"] for line in lines} == {"5"}
    assert not [c for c in counts.values() if 0 < c < 5]
    as_json = researcher.get("/research/table.json?rows=land").get_json()
    assert as_json["k"] == 5
    assert all("suppressed" not in cell for cell in as_json["cells"])
    cells = {cell["row"]: cell["count"] for cell in as_json["cells"]}
    assert cells["sn"] == published_keys(intake_app, sn)
    assert cells["th"] == published_keys(intake_app, th)
    assert cells["th"] in (0, 5)
    assert cells["_total"] == counts["_total"]  # the same incidents by another table
    with intake_app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.STATISTICS_EXPORT)
        ).all()
        assert [event.details["format"] for event in events] == ["csv", "json"]
        assert all(event.actor_id is not None for event in events)


def test_the_table_says_which_decisions_it_counts(researcher: FlaskClient) -> None:
    html = researcher.get("/research/?rows=land&verification=verified,not_verifiable")
    text = html.get_data(as_text=True)
    assert "Gezählt: vom Moderationsteam bestätigt, plausibel, aber nicht überprüfbar." in text
