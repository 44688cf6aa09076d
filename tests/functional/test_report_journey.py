"""Report, keep the receipt, come back, read and answer a message — as a person would."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from app.crypto import keyring
from app.crypto.reports import mailbox_key_for_staff, open_report
from app.extensions import db
from app.mailbox import STAFF, add_message
from app.models import Base, Incident, Message, Report, StatusSession
from app.retention import purge_due_reports
from tests.factories import report_form_data
from tests.functional.conftest import (
    hidden_value,
    post_report,
    receipt_code,
    walk_to_last_step,
)


def count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_person_reports_keeps_the_code_and_follows_up(intake_app: Flask) -> None:
    client = intake_app.test_client()
    form_page = client.get("/de/report")
    assert form_page.headers["Cache-Control"] == "no-store"
    set_cookie = form_page.headers.get("Set-Cookie", "")
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    assert "Expires" not in set_cookie  # the CSRF session ends with the browser

    response = post_report(client, report_form_data())
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    code = receipt_code(response)
    assert re.fullmatch(r"([0-9A-Z]{4}-){4}[0-9A-Z]{4}", code)
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "nicht wiederhergestellt" in html

    # The receipt asks for confirmation before it lets the person go.
    form_token = hidden_value(html, "form_token")
    csrf = hidden_value(html, "csrf_token")
    refused = client.post("/de/report/receipt", data={"csrf_token": csrf, "form_token": form_token})
    assert refused.status_code == 422
    assert receipt_code(refused) == code
    kept = client.post(
        "/de/report/receipt", data={"csrf_token": csrf, "form_token": form_token, "kept": "y"}
    )
    assert kept.status_code == 303
    assert client.get(kept.headers["Location"]).status_code == 200

    with intake_app.app_context():
        report = db.session.scalars(select(Report)).one()
        incident = db.session.scalars(select(Incident)).one()
        assert incident.report_id == report.id
        assert incident.most_severe_type == "threat"
        assert incident.codes_for("incident_types") == ["threat", "verbal_abuse"]
        where = (incident.land, incident.town, incident.place_type)
        assert where == ("sn", "leipzig", "public_transport")
        assert incident.date_from == incident.date_to == dt.date(2026, 11, 1)
        assert report.codebook_version == incident.codebook_version
        unlocked = keyring.unlock_with_recovery(intake_app.config["TEST_RECOVERY_KEY"])
        opened = open_report(report, unlocked)
        assert opened.fields["description"].startswith("In der Straßenbahn")
        # A moderator writes to the reporter (the moderation UI comes later; its service now).
        add_message(
            report, mailbox_key_for_staff(report, unlocked), "Wann genau war das?",
            author=STAFF, kind="message", today=dt.date(2026, 11, 27),
        )  # fmt: skip
        db.session.commit()

    # Later, on another device: only the code.
    later = intake_app.test_client()
    page = later.get("/en/report/status")
    csrf = hidden_value(page.get_data(as_text=True), "csrf_token")
    typed = " " + code.lower().replace("-", " ") + " "
    opened_page = later.post("/en/report/status", data={"csrf_token": csrf, "code": typed})
    assert opened_page.status_code == 303
    assert "code" not in opened_page.headers["Location"].lower()
    status = later.get("/en/report/status")
    html = status.get_data(as_text=True)
    assert status.headers["Cache-Control"] == "no-store"
    assert "Received" in html
    assert "Wann genau war das?" in html

    answered = later.post(
        "/en/report/status/message",
        data={"csrf_token": csrf, "text": "Gegen 18 Uhr, Linie 11.", "kind": "message"},
    )
    assert answered.status_code == 303
    assert "Gegen 18 Uhr, Linie 11." in later.get("/en/report/status").get_data(as_text=True)
    with intake_app.app_context():
        assert count(Message) == 2

    deletion = later.post("/en/report/status/delete", data={"csrf_token": csrf})
    assert deletion.status_code == 422
    deletion = later.post("/en/report/status/delete", data={"csrf_token": csrf, "confirm": "y"})
    assert deletion.status_code == 303
    with intake_app.app_context():
        assert db.session.scalars(select(Report)).one().deletion_requested_on is not None

    left = later.post("/en/report/status/leave", data={"csrf_token": csrf})
    assert left.status_code == 303
    with intake_app.app_context():
        assert count(StatusSession) == 0
    after = later.get("/en/report/status").get_data(as_text=True)
    assert "Wann genau war das?" not in after


def test_a_second_post_of_the_same_form_creates_no_second_report(intake_app: Flask) -> None:
    client = intake_app.test_client()
    _page, sending = walk_to_last_step(client, report_form_data())
    first = client.post("/de/report", data=sending, content_type="multipart/form-data")
    second = client.post("/de/report", data=sending, content_type="multipart/form-data")
    assert first.status_code == second.status_code == 200
    assert receipt_code(first) == receipt_code(second)  # the code is not lost on a reload
    with intake_app.app_context():
        assert count(Report) == 1
        assert count(Incident) == 1
    third = post_report(client, report_form_data())  # a new form is a new report
    assert receipt_code(third) != receipt_code(first)


def test_a_wrong_code_gets_one_answer_whatever_it_is(browser_like: FlaskClient) -> None:
    """The answer depends only on what was typed, never on what is stored: every code of the
    right length gets the same page, every other text only learns how many signs were read."""
    csrf = hidden_value(browser_like.get("/de/report/status").get_data(as_text=True), "csrf_token")
    answers = set()
    for typed in ("AAAA-AAAA-AAAA-AAAA-AAAA", "short", "", "ÜÜÜÜ", "x" * 500,
                  "ZZZZ ZZZZ ZZZZ ZZZZ ZZZZ"):  # fmt: skip
        response = browser_like.post("/de/report/status", data={"csrf_token": csrf, "code": typed})
        assert response.status_code == 404
        text = response.get_data(as_text=True)
        count = r"Ein Code hat 20 Zeichen \(ohne Bindestriche\), wir haben \d+ gelesen\. "
        text = re.sub(count, "", text)
        answers.add(re.sub(r'value="[^"]*"', "", text))
    assert len(answers) == 1  # never a hint whether a code exists


FULL_WIDTH = {ord(char): ord(char) + 0xFEE0 for char in "0123456789ABCDEFGHJKMNPQRSTVWXYZ"}


def test_a_code_typed_as_phones_and_word_processors_type_it_finds_the_report(
    intake_app: Flask,
) -> None:
    code = receipt_code(post_report(intake_app.test_client(), report_form_data()))
    groups = code.split("-")
    typings = [
        "\u2212".join(group.translate(FULL_WIDTH) for group in groups),  # minus, full width
        "\u3000".join(groups).lower().translate(FULL_WIDTH),  # ideographic space
        "/".join(groups),
        ", ".join(groups),
        "\u200b".join(code.replace("-", "")),  # a zero-width space after every symbol
        code.replace("-", "\u2011").replace("0", "О").replace("A", "а"),  # Cyrillic О and а
    ]
    for typed in typings:
        client = intake_app.test_client()
        csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
        opened = client.post("/de/report/status", data={"csrf_token": csrf, "code": typed})
        assert opened.status_code == 303, ascii(typed)
        assert "Eingegangen" in client.get("/de/report/status").get_data(as_text=True)


def test_status_needs_the_session_and_forgets_it_when_idle(intake_app: Flask) -> None:
    client = intake_app.test_client()
    code = receipt_code(post_report(client, report_form_data()))
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    for action in ("message", "delete"):
        response = client.post(f"/de/report/status/{action}", data={"csrf_token": csrf})
        assert response.status_code == 200  # the code form, asking for the code again
        assert 'name="code"' in response.get_data(as_text=True)
    client.post("/de/report/status", data={"csrf_token": csrf, "code": code})
    with client.session_transaction() as session:
        session["status"] = {**session["status"], "seen": session["status"]["seen"] - 16 * 60}
    html = client.get("/de/report/status").get_data(as_text=True)
    assert 'name="code"' in html


def _open_status(client: FlaskClient, code: str) -> str:
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    opened = client.post("/de/report/status", data={"csrf_token": csrf, "code": code})
    assert opened.status_code == 303
    return csrf


def test_evidence_added_later_is_sealed_under_the_mailbox_key(intake_app: Flask) -> None:
    client = intake_app.test_client()
    code = receipt_code(post_report(client, report_form_data()))
    csrf = _open_status(client, code)
    refused = client.post(
        "/de/report/status/evidence",
        data={"csrf_token": csrf, "images": [(io.BytesIO(b"kein Bild"), "notiz.txt")]},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "„\u2068notiz.txt\u2069“ ist kein Bild." in refused.get_data(as_text=True)
    empty = client.post("/de/report/status/evidence", data={"csrf_token": csrf},
                        content_type="multipart/form-data")  # fmt: skip
    assert empty.status_code == 422
    image = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(image, format="WEBP")
    image.seek(0)
    added = client.post(
        "/de/report/status/evidence",
        data={"csrf_token": csrf, "images": [(image, "später.webp")]},
        content_type="multipart/form-data",
    )
    assert added.status_code == 303
    assert "1 Bild ist bei Ihrer Meldung gespeichert." in client.get("/de/report/status").get_data(
        as_text=True
    )
    with intake_app.app_context():
        report = db.session.scalars(select(Report)).one()
        (attachment,) = report.attachments
        assert attachment.sealed_with == "mailbox"
        unlocked = keyring.unlock_with_recovery(intake_app.config["TEST_RECOVERY_KEY"])
        (opened,) = open_report(report, unlocked).attachments
        assert opened.meta.mime_type == "image/webp"
        assert opened.meta.original_name == "später.webp"


def test_wrong_codes_are_rate_limited(intake_app: Flask) -> None:
    intake_app.config["STATUS_RATE_LIMIT"] = "3 per 15 minutes"
    client = intake_app.test_client()
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    environ = {"REMOTE_ADDR": "192.0.2.44"}
    statuses = [
        client.post(
            "/de/report/status",
            data={"csrf_token": csrf, "code": f"WRONG{n}"},
            environ_base=environ,
        ).status_code  # fmt: skip
        for n in range(4)
    ]
    assert statuses == [404, 404, 404, 429]
    refused = client.post("/de/report/status", data={"csrf_token": csrf, "code": "x"},
                          environ_base=environ)  # fmt: skip
    assert "Zu viele Versuche" in refused.get_data(as_text=True)


def test_the_form_path_leaves_no_plaintext_on_disk(intake_app: Flask) -> None:
    """The canary again, this time through the real form post."""
    canary = f"Formularkanarienvogel{secrets.token_hex(8)}"
    data = report_form_data(
        description=f"Beschreibung {canary}", district=f"Viertel {canary}",
        perpetrator_description=f"Täter {canary}", contact_email=f"{canary}@example.org",
    )  # fmt: skip
    image = io.BytesIO()
    Image.new("RGB", (30, 30), (9, 9, 9)).save(image, format="PNG")
    image.seek(0)
    data["images"] = [(image, f"{canary}.png")]
    response = post_report(intake_app.test_client(), data)
    assert response.status_code == 200
    spellings = [canary.encode(), canary.encode("utf-16-le"), canary.encode().hex().encode()]
    for path in Path(intake_app.instance_path).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(spelling in content for spelling in spellings), path
    with intake_app.app_context():
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                assert canary not in repr(row), table.name


def test_after_the_purge_the_code_says_the_data_is_gone(intake_app: Flask) -> None:
    client = intake_app.test_client()
    code = receipt_code(post_report(client, report_form_data()))
    with intake_app.app_context():
        report = db.session.scalars(select(Report)).one()
        report.retention_deadline = dt.date(2026, 1, 1)
        purge_due_reports(dt.date(2026, 11, 26), commit=db.session.commit)
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    response = client.post("/de/report/status", data={"csrf_token": csrf, "code": code})
    assert response.status_code == 200
    assert "wurden gelöscht" in response.get_data(as_text=True)
