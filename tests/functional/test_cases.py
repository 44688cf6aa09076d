"""Working a case through the browser's eyes: from the report form to a closed case."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select, update

from app.crypto import keyring
from app.crypto.reports import (
    AttachmentMeta,
    report_key,
    seal_attachment_image,
    seal_attachment_meta,
)
from app.extensions import db
from app.models import Attachment, AuditEvent, CaseCode, Incident, Report, SessionKey, User
from app.models.incident import CLOSED, IN_REVIEW, RECEIVED, VERIFIED
from app.models.user import MODERATOR
from app.moderation import case_views
from app.retention import purge_due_reports
from tests.factories import report_form_data
from tests.functional.conftest import hidden_value, post_report, receipt_code
from tests.functional.test_moderation_access import login
from tests.integration.test_canary import rows_containing
from tests.staff import Staff, make_staff

CODING = {"incident_types": ["assault", "verbal_abuse"], "land": "sn", "place_type": "street",
          "target": "person"}  # fmt: skip


@dataclass
class Desk:
    """A moderator's logged-in browser and its CSRF token."""

    client: FlaskClient
    staff: Staff
    csrf: str

    def post(self, path: str, **data: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf, **data})


@pytest.fixture
def desk(intake_app: Flask) -> Desk:
    with intake_app.app_context():
        staff = make_staff(MODERATOR, intake_app.config["TEST_RECOVERY_KEY"])
    client = intake_app.test_client()
    assert login(client, staff).status_code == 303
    csrf = hidden_value(client.get("/moderation/login").get_data(as_text=True), "csrf_token")
    return Desk(client, staff, csrf)


def png(size: tuple[int, int] = (30, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def report_through_the_form(app: Flask, **changes: Any) -> tuple[int, str]:
    """Report as a person would; the new case's id and the receipt code."""
    response = post_report(app.test_client(), report_form_data(**changes))
    assert response.status_code == 200
    with app.app_context():
        case_id = db.session.scalars(select(Incident.id).order_by(Incident.id.desc())).first()
    assert case_id is not None
    return case_id, receipt_code(response)


def tags(app: Flask, case_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(
            select(AuditEvent.tag).where(AuditEvent.target_type == "incident",
                                         AuditEvent.target_id == case_id).order_by(AuditEvent.id)
        ))  # fmt: skip


def case_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'href="/moderation/cases/(\d+)"', html)]


def test_a_report_is_reviewed_coded_verified_answered_and_closed(
    intake_app: Flask, desk: Desk
) -> None:
    case_id, code = report_through_the_form(intake_app, description="Sie wurde <b>bespuckt</b>.")
    path = f"/moderation/cases/{case_id}"

    queue = desk.client.get("/moderation/queue")
    assert queue.status_code == 200
    assert queue.headers["Cache-Control"] == "no-store"
    assert case_ids(queue.get_data(as_text=True)) == [case_id]
    page = desk.client.get(path).get_data(as_text=True)
    assert "Sachsen" in page  # the reporter's clear codes, labelled
    assert "Beleidigung" in page
    assert "bespuckt" not in page  # nothing sealed until someone opens it
    assert tags(intake_app, case_id) == []

    opened = desk.post(f"{path}/open")
    assert opened.status_code == 200
    assert opened.headers["Cache-Control"] == "no-store"
    html = opened.get_data(as_text=True)
    assert "Sie wurde &lt;b&gt;bespuckt&lt;/b&gt;." in html  # escaped, never markup
    assert tags(intake_app, case_id) == ["case:open"]

    assert desk.post(f"{path}/state", to=IN_REVIEW).status_code == 303
    refused = desk.post(f"{path}/state", to=VERIFIED)
    assert refused.status_code == 409
    assert "kodieren" in refused.get_data(as_text=True)
    coded = desk.post(f"{path}/code", **CODING)
    assert coded.status_code == 303
    assert "Kodierung ist gespeichert" in desk.client.get(coded.headers["Location"]).get_data(
        as_text=True
    )
    assert desk.post(f"{path}/state", to=VERIFIED).status_code == 303

    note_canary = f"Notizvogel-{secrets.token_hex(8)}"
    message_canary = f"Antwortvogel-{secrets.token_hex(8)}"
    assert desk.post(f"{path}/notes", text=f"Intern: {note_canary}").status_code == 303
    question = f"Können Sie uns mehr sagen? {message_canary}"
    assert desk.post(f"{path}/message", text=question).status_code == 303
    with intake_app.app_context():
        assert rows_containing(note_canary) == []
        assert rows_containing(message_canary) == []
    reopened = desk.post(f"{path}/open").get_data(as_text=True)
    assert f"Intern: {note_canary}" in reopened
    assert message_canary in reopened

    # The reporter reads the answer with the receipt code alone.
    person = intake_app.test_client()
    csrf = hidden_value(person.get("/de/report/status").get_data(as_text=True), "csrf_token")
    assert person.post("/de/report/status", data={"csrf_token": csrf, "code": code}).status_code \
        == 303  # fmt: skip
    status = person.get("/de/report/status").get_data(as_text=True)
    assert question in status
    assert "Bestätigt" in status

    closed = desk.post(f"{path}/state", to=CLOSED)
    assert closed.status_code == 303
    with intake_app.app_context():
        incident = db.session.get(Incident, case_id)
        assert incident is not None
        report = db.session.get(Report, incident.report_id)
        assert report is not None
        today = dt.datetime.now(dt.UTC).date()
        assert (incident.state, incident.verified_on, incident.closed_on) == (
            CLOSED, today, today)  # fmt: skip
        assert report.retention_deadline == today + dt.timedelta(
            days=intake_app.config["RETENTION_DAYS"]
        )
        assert incident.coded_most_severe_type == "assault"
        codes = db.session.scalars(select(CaseCode.code).where(CaseCode.incident_id == case_id))
        assert sorted(codes) == ["assault", "person", "sn", "street", "verbal_abuse"]
    assert tags(intake_app, case_id) == [
        "case:open", "case:change_state", "case:code", "case:change_state",
        "case:add_note", "case:send_message", "case:open", "case:change_state",
    ]  # fmt: skip
    final = desk.client.get(path).get_data(as_text=True)
    assert "Der Fall ist abgeschlossen." in final
    assert desk.post(f"{path}/state", to=IN_REVIEW).status_code == 409


# Text as people write it: Persian with a zero-width non-joiner, emoji joined by ZWJ, the
# Scotland flag in tag characters, Arabic with ALM and RLM, a German soft hyphen, an override.
EVERY_SCRIPT = (
    "می\u200cخواهم گزارش بدهم. 🤦\u200d♀\ufe0f 🏳\ufe0f\u200d🌈 "
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f\n"
    "\u061cقال: \u200fمرحبا\u200f — Antidiskriminierungs\u00adstelle \u202eumgedreht"
)


def test_text_in_every_script_reaches_staff_and_reporter_unchanged(
    intake_app: Flask, desk: Desk
) -> None:
    # The form path, with what a client may add around it: a BOM, CRLF, a NUL.
    typed = "\ufeff" + EVERY_SCRIPT.replace("\n", "\r\n") + "\x00"
    case_id, code = report_through_the_form(intake_app, description=typed,
                                            district="Nord\u00adost \u200fمنطقة")  # fmt: skip
    path = f"/moderation/cases/{case_id}"
    opened = desk.post(f"{path}/open").get_data(as_text=True)
    # Shown exactly as written, each in an element that keeps its direction to itself.
    assert f'<dd class="message-text" dir="auto">{EVERY_SCRIPT}</dd>' in opened
    assert '<dd class="message-text" dir="auto">Nord\u00adost \u200fمنطقة</dd>' in opened

    # Staff write in the same way; the reporter reads it and answers with ZWJ emoji.
    staff_text = "شكراً \u200f🙏\u200d — bitte melden Sie sich 👩\u200d👩\u200d👧"
    assert desk.post(f"{path}/notes", text=staff_text + "\x07").status_code == 303
    assert desk.post(f"{path}/message", text="\r\n" + staff_text).status_code == 303
    person = intake_app.test_client()
    csrf = hidden_value(person.get("/en/report/status").get_data(as_text=True), "csrf_token")
    assert person.post("/en/report/status", data={"csrf_token": csrf, "code": code}).status_code \
        == 303  # fmt: skip
    status = person.get("/en/report/status").get_data(as_text=True)
    assert f'<p class="message-text" dir="auto">{staff_text}</p>' in status
    answer = "🤦\u200d♂\ufe0f می\u200cدانم \u202eolleh"
    sent = person.post(
        "/en/report/status/message",
        data={"csrf_token": csrf, "text": answer + "\x1b", "kind": "message"},
    )
    assert sent.status_code == 303
    assert f'<p class="message-text" dir="auto">{answer}</p>' in person.get(
        "/en/report/status"
    ).get_data(as_text=True)
    reopened = desk.post(f"{path}/open").get_data(as_text=True)
    assert reopened.count(f'<p class="message-text" dir="auto">{staff_text}</p>') == 2
    assert f'<p class="message-text" dir="auto">{answer}</p>' in reopened

    # Only invisible characters: nothing written, so nothing is sent.
    empty = person.post(
        "/en/report/status/message",
        data={"csrf_token": csrf, "text": "\u200b\u200d\x00", "kind": "message"},
    )
    assert empty.status_code == 422
    assert "Please write a message." in empty.get_data(as_text=True)
    empty_note = desk.post(f"{path}/notes", text="\ufeff\u200e")
    assert empty_note.status_code == 422


def test_images_are_served_inline_as_images_and_never_as_pages(
    intake_app: Flask, desk: Desk
) -> None:
    case_id, _code = report_through_the_form(
        intake_app, images=[(io.BytesIO(png()), "<script>name</script>.png")]
    )
    path = f"/moderation/cases/{case_id}"
    html = desk.post(f"{path}/open").get_data(as_text=True)
    assert f'src="{path}/attachments/0"' in html
    assert "&lt;script&gt;name&lt;/script&gt;.png" in html

    def served() -> Any:
        response = desk.client.get(f"{path}/attachments/0")
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'none'; img-src 'self'; style-src 'none'; sandbox"
        )
        assert "html" not in response.headers["Content-Type"]
        return response

    image = served()
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"] == 'inline; filename="attachment-0.png"'
    assert Image.open(io.BytesIO(image.data)).size == (30, 20)

    # Bytes that look like a page stay an image: the type is the sealed one, not sniffed.
    page = b"<!doctype html><html><script>alert(1)</script></html>"
    with intake_app.app_context():
        attachment = db.session.scalars(select(Attachment)).one()
        report = db.session.get(Report, attachment.report_id)
        assert report is not None
        key = report_key(report, keyring.unlock_with_recovery(intake_app.config[
            "TEST_RECOVERY_KEY"]))  # fmt: skip
        attachment.sealed_image = seal_attachment_image(key, report.id, 0, page)
        db.session.commit()
    tampered = served()
    assert (tampered.headers["Content-Type"], tampered.data) == ("image/png", page)
    # Even a sealed type that is not an image never renders: a download with a fixed name.
    with intake_app.app_context():
        attachment = db.session.scalars(select(Attachment)).one()
        meta = AttachmentMeta("text/html", 1, 1, "x.html")
        attachment.sealed_metadata = seal_attachment_meta(key, attachment.report_id, 0, meta)
        db.session.commit()
    download = served()
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"] == 'attachment; filename="attachment-0.bin"'
    assert desk.client.get(f"{path}/attachments/1").status_code == 404
    assert desk.client.get("/moderation/cases/999/attachments/0").status_code == 404
    assert tags(intake_app, case_id) == ["case:open"] * 4  # the page, then each image served


def test_queue_filters_and_pages_newest_first(
    intake_app: Flask, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_views, "PAGE_SIZE", 4)
    monkeypatch.setattr(case_views, "COUNT_CAP", 5)
    made = [report_through_the_form(intake_app, land="be" if n % 2 else "sn")[0]
            for n in range(9)]  # fmt: skip
    seen: list[int] = []
    url: str | None = "/moderation/queue?state=received&messages="
    while url:
        html = desk.client.get(url).get_data(as_text=True)
        seen += case_ids(html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        if url:
            assert "state=received" in url
            assert "after=" in url
    assert seen == sorted(made, reverse=True)
    assert "Eingegangen</a>: 5+" in html  # nine, counted only up to the cap
    berlin = desk.client.get("/moderation/queue?land=be&type=threat&state=all")
    assert case_ids(berlin.get_data(as_text=True)) == sorted(made[1::2], reverse=True)[:4]
    assert "Zu den neuesten Fällen" not in berlin.get_data(as_text=True)
    with intake_app.app_context():
        moderator = db.session.scalars(select(User).where(User.email == desk.staff.email)).one()
        db.session.execute(update(Incident).where(Incident.id == made[0])
                           .values(assigned_to=moderator.id))  # fmt: skip
        db.session.commit()
        moderator_id = moderator.id
    for query in ("assigned=me", f"assigned={moderator_id}"):
        assert case_ids(desk.client.get(f"/moderation/queue?{query}").get_data(as_text=True)) \
            == [made[0]]  # fmt: skip
    assert len(case_ids(desk.client.get("/moderation/queue?assigned=none&state=open")
                        .get_data(as_text=True))) == 4  # fmt: skip
    assert case_ids(desk.client.get("/moderation/queue?messages=1").get_data(as_text=True)) == []
    for bad in ("state=deleted", "land=xx", "type=murder", "from=gestern", "assigned=99999",
                "assigned=-1", "after=0", f"after={'9' * 30}", "messages=ja",
                "to=2026-13-01"):  # fmt: skip
        response = desk.client.get(f"/moderation/queue?{bad}")
        assert response.status_code == 400, bad
        assert "ist ungültig" in response.get_data(as_text=True)
    # Dates: one range, ISO only, and the message names the filter as the form labels it.
    labelled = [
        ("from=0000-01-01", "Eingegangen ab"), ("to=9999-12-31", "Eingegangen bis"),
        ("from=1989-12-31", "Eingegangen ab"), ("from=20261101", "Eingegangen ab"),
        ("to=2026-W01-1", "Eingegangen bis"), ("land=xx", "Bundesland"),
    ]  # fmt: skip
    for bad, label in labelled:
        response = desk.client.get(f"/moderation/queue?{bad}")
        assert response.status_code == 400, bad
        html = response.get_data(as_text=True)
        assert f"Der Filter „{label}“ ist ungültig" in html
        name, value = bad.split("=")
        if name in ("from", "to"):
            assert "1. Januar 1990 bis 31. Dezember 2099" in html
            assert f'name="{name}" value="{value}"' in html  # what was typed stays
    assert desk.client.get("/moderation/queue?from=1990-01-01&to=2099-12-31").status_code == 200
    tricked = desk.client.get("/moderation/queue?state=received&_scheme=javascript&_external=1")
    assert "javascript" not in tricked.get_data(as_text=True)


def test_refusals_keep_the_case_and_say_why(intake_app: Flask, desk: Desk) -> None:
    first, _ = report_through_the_form(intake_app)
    second, _ = report_through_the_form(intake_app)
    path = f"/moderation/cases/{second}"
    unknown_state = desk.post(f"{path}/state", to="deleted")
    assert unknown_state.status_code == 409
    assert "nicht möglich" in unknown_state.get_data(as_text=True)
    assert desk.post(f"{path}/duplicate", original=str(second)).status_code == 409
    assert desk.post(f"{path}/duplicate", original="#12345").status_code == 422
    typed = desk.post(f"{path}/duplicate", original="zwei")
    assert typed.status_code == 422
    # What was typed stays, and the field points at the message that says why.
    assert 'value="zwei" aria-invalid="true" aria-describedby="original-hint case-error"' in (
        typed.get_data(as_text=True)
    )
    assert desk.post(f"{path}/duplicate", original=f"#{first}").status_code == 303
    cycle = desk.post(f"/moderation/cases/{first}/duplicate", original=str(second))
    assert cycle.status_code == 409
    assert "Kreis" in cycle.get_data(as_text=True)
    assert f"Duplikat von #{first}" in desk.client.get("/moderation/queue").get_data(as_text=True)

    empty = desk.post(f"{path}/notes", text="   ")
    assert empty.status_code == 422
    assert "Bitte schreiben Sie einen Text." in empty.get_data(as_text=True)
    long_text = "x" * 5001
    too_long = desk.post(f"{path}/message", text=long_text)
    assert too_long.status_code == 422
    assert long_text in too_long.get_data(as_text=True)  # what was typed is kept
    unknown = desk.post(f"{path}/code", **{**CODING, "incident_types": "murder"})
    assert unknown.status_code == 422
    assert "Welche Art von Vorfall war es?" in unknown.get_data(as_text=True)
    for assignee in ("99999", "jemand"):
        assert desk.post(f"{path}/assign", assignee=assignee).status_code == 422
    assert desk.post(f"{path}/deletion").status_code == 422
    assert desk.client.get("/moderation/cases/99999").status_code == 404
    huge = "9" * 30  # no such row, and too large to bind in SQLite: still a plain refusal
    assert desk.client.get(f"/moderation/cases/{huge}").status_code == 404
    assert desk.client.get(f"{path}/attachments/{huge}").status_code == 404
    assert desk.post(f"{path}/assign", assignee=huge).status_code == 422
    assert desk.post(f"{path}/duplicate", original=huge).status_code == 422
    assert tags(intake_app, second) == ["case:link_duplicate"]

    honoured = desk.post(f"{path}/deletion", confirm="y")
    assert honoured.status_code == 303
    with intake_app.app_context():
        assert purge_due_reports(dt.datetime.now(dt.UTC).date()).reports == 1
    gone = desk.client.get(path).get_data(as_text=True)
    assert "persönlichen Daten dieses Falls sind gelöscht" in gone
    assert 'name="text"' not in gone  # no note or message form without keys to seal with
    for action in ("open", "notes", "message", "deletion"):
        assert desk.post(f"{path}/{action}", text="x", confirm="y").status_code == 409, action
    assert desk.client.get(f"{path}/attachments/0").status_code == 404
    assert desk.post(f"{path}/code", **CODING).status_code == 303  # the clear codes stay workable


def test_locked_keys_send_the_moderator_to_log_in_again(intake_app: Flask, desk: Desk) -> None:
    case_id, _ = report_through_the_form(intake_app)
    path = f"/moderation/cases/{case_id}"
    with intake_app.app_context():
        idle = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
        db.session.execute(update(SessionKey).values(last_used_at=idle))
        db.session.commit()
    # Reading the queue counts as use: the keys stay open while the staff session is alive.
    assert desk.client.get("/moderation/queue").status_code == 200
    with intake_app.app_context():
        touched = db.session.scalars(select(SessionKey.last_used_at)).one()
        assert touched.replace(tzinfo=dt.UTC) > idle + dt.timedelta(minutes=19)
        gone = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
        db.session.execute(update(SessionKey).values(last_used_at=gone))
        db.session.commit()
    assert desk.client.get(path).status_code == 200  # an idled-out keys session is not revived
    for action in ("open", "notes", "message"):
        response = desk.post(f"{path}/{action}", text="x")
        assert response.status_code == 303, action
        assert response.headers["Location"].endswith("/moderation/login")
        assert login(desk.client, desk.staff).status_code == 303  # a new session, a new token
        desk.csrf = hidden_value(desk.client.get(path).get_data(as_text=True), "csrf_token")
        with intake_app.app_context():
            db.session.execute(update(SessionKey).values(last_used_at=gone))
            db.session.commit()
    assert desk.client.get(f"{path}/attachments/0").status_code == 303
    assert tags(intake_app, case_id) == []
    assert login(desk.client, desk.staff).status_code == 303
    desk.csrf = hidden_value(desk.client.get(path).get_data(as_text=True), "csrf_token")
    with desk.client.session_transaction() as session:
        session["staff"] = {**session["staff"], "keys": "kein-ticket"}
    assert desk.client.get("/moderation/queue").status_code == 200  # reading needs no keys
    assert desk.post(f"{path}/open").status_code == 303
    assert desk.client.get("/moderation/queue").status_code == 302  # that login has ended


def test_a_new_case_starts_received_and_unassigned(intake_app: Flask, desk: Desk) -> None:
    case_id, _ = report_through_the_form(intake_app)
    with intake_app.app_context():
        incident = db.session.get(Incident, case_id)
        assert incident is not None
        assert (incident.state, incident.assigned_to, incident.duplicate_of) == (
            RECEIVED, None, None)  # fmt: skip
    with intake_app.app_context():
        moderator = db.session.scalars(select(User).where(User.email == desk.staff.email)).one()
        moderator_id = moderator.id
    assert desk.post(f"/moderation/cases/{case_id}/assign",
                     assignee=str(moderator_id)).status_code == 303  # fmt: skip
    page = desk.client.get(f"/moderation/cases/{case_id}").get_data(as_text=True)
    assert f'<option value="{moderator_id}" selected>' in page


def test_seals_that_do_not_open_and_logins_without_keys(intake_app: Flask, desk: Desk) -> None:
    case_id, _ = report_through_the_form(intake_app, images=[(io.BytesIO(png()), "a.png")])
    path = f"/moderation/cases/{case_id}"
    with intake_app.app_context():
        incident = db.session.get(Incident, case_id)
        assert incident is not None
        report = db.session.get(Report, incident.report_id)
        assert report is not None
        assert report.wrapped_data_key
        assert report.wrapped_mailbox_key
        # Flip one byte of each wrapped key: authenticated encryption refuses them.
        report.wrapped_data_key = report.wrapped_data_key[:-1] + bytes(
            [report.wrapped_data_key[-1] ^ 1])  # fmt: skip
        report.wrapped_mailbox_key = report.wrapped_mailbox_key[:-1] + bytes(
            [report.wrapped_mailbox_key[-1] ^ 1])  # fmt: skip
        researcher = make_staff("researcher", None)
        query = select(User.id).where(User.email == researcher.email)
        researcher_id = db.session.scalars(query).one()
        db.session.commit()
    for action in ("open", "notes", "message"):
        response = desk.post(f"{path}/{action}", text="x")
        assert response.status_code == 409, action
        assert "nicht öffnen" in response.get_data(as_text=True)
    assert desk.client.get(f"{path}/attachments/0").status_code == 409
    assert desk.post(f"{path}/assign", assignee=str(researcher_id)).status_code == 422
    assert tags(intake_app, case_id) == []

    with intake_app.app_context():
        db.session.execute(update(Incident).where(Incident.id == case_id).values(report_id=None))
        db.session.commit()
    assert desk.post(f"{path}/message", text="x").status_code == 409  # no report, no mailbox

    # A login that holds no keys although the slot holds them now (granted after this login
    # began) reads the case, and is told to log in again to open anything; it stays logged in.
    with desk.client.session_transaction() as session:
        session["staff"] = {**session["staff"], "keys": None}
    page = desk.client.get(path)
    assert page.status_code == 200
    assert "Ihr Schlüssel ist inzwischen freigegeben" in page.get_data(as_text=True)
    response = desk.post(f"{path}/open")
    assert response.status_code == 409
    assert "Bitte melden Sie sich ab und neu an" in response.get_data(as_text=True)
    assert desk.client.get("/moderation/queue").status_code == 200
