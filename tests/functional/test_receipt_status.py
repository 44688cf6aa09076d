"""The receipt and the status page, as a person sees them, in German and in English.

The receipt writes out where to come back and prints just the code; dates are words in the
page's language (ISO only where machines read them); the status page says until when the
personal data is kept and what deletion removes; a refused code comes back in its field.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.api.tokens import create_token
from app.dates import format_day
from app.extensions import db
from app.models import Incident, Report, User
from app.models.user import ADMIN
from tests.factories import report_form_data
from tests.functional.conftest import hidden_value, post_report, receipt_code
from tests.functional.test_moderation_access import login
from tests.staff import make_staff

TODAY = dt.datetime.now(dt.UTC).date()
WORDS = {"de": "Eingegangen am", "en": "Received on"}


def status_client(app: Flask, lang: str = "de") -> tuple[FlaskClient, str, str]:
    """A browser that reported and opened its status page: the client, the code, the CSRF."""
    client = app.test_client()
    code = receipt_code(post_report(client, report_form_data(), lang=lang))
    csrf = hidden_value(client.get(f"/{lang}/report/status").get_data(as_text=True), "csrf_token")
    opened = client.post(f"/{lang}/report/status", data={"csrf_token": csrf, "code": code})
    assert opened.status_code == 303
    return client, code, csrf


def text_of(html: str) -> str:
    """What a person reads: the text between tags, never attribute values."""
    body = html.split("<body", 1)[1]
    return unescape(re.sub(r"<[^>]*>", " ", body))


ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def day(on: dt.date, lang: str) -> str:
    return f'<time datetime="{on.isoformat()}">{format_day(on, lang)}</time>'


# --- The receipt ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_receipt_writes_out_where_to_come_back_and_offers_to_print(
    intake_app: Flask, lang: str
) -> None:
    client = intake_app.test_client()
    response = post_report(client, report_form_data(), lang=lang)
    html = response.get_data(as_text=True)
    # The address the status page really has, on the host the person used, in their language.
    address = f"http://localhost/{lang}/report/status"
    assert f'<p class="status-address"><span dir="ltr">{address}</span></p>' in html
    assert client.get(f"/{lang}/report/status").status_code == 200
    # Five groups of four that never break inside, and the same code when copied.
    groups = re.findall(r'<span class="receipt-group">([^<]*)</span>', html)
    assert [len(group.rstrip("-")) for group in groups] == [4] * 5
    assert "".join(groups) == receipt_code(response)
    # Printing: said in words for every browser, a button only where scripts run.
    assert '<button type="button" class="button" id="print-receipt" hidden>' in html
    assert "/static/js/print-receipt.js" in html
    assert 'href="/static/css/receipt-print.css" media="print"' in html
    said = {"de": "wählen Sie „Drucken“ im Menü Ihres Browsers",
            "en": "choose “Print” in your browser’s menu"}  # fmt: skip
    assert said[lang] in html

    kept = client.post(
        f"/{lang}/report/receipt",
        data={"csrf_token": hidden_value(html, "csrf_token"),
              "form_token": hidden_value(html, "form_token"), "kept": "y"},
    )  # fmt: skip
    thanks = client.get(kept.headers["Location"]).get_data(as_text=True)
    assert f'<span dir="ltr">{address}</span>' in thanks


def test_behind_a_proxy_the_receipt_names_the_public_address(intake_app: Flask) -> None:
    intake_app.config["PUBLIC_BASE_URL"] = "https://melden.example.org/"
    html = post_report(intake_app.test_client(), report_form_data()).get_data(as_text=True)
    assert '<span dir="ltr">https://melden.example.org/de/report/status</span>' in html
    assert "localhost" not in text_of(html)


def test_the_print_script_and_stylesheet_are_served(intake_app: Flask) -> None:
    client = intake_app.test_client()
    with client.get("/static/js/print-receipt.js") as script:
        assert script.status_code == 200
        assert b"window.print()" in script.data
    with client.get("/static/css/receipt-print.css") as sheet:
        assert sheet.status_code == 200
        assert b"@page { margin: 0; }" in sheet.data


# --- Dates and retention on the status page -------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_status_page_writes_dates_in_words_of_its_language(
    intake_app: Flask, lang: str
) -> None:
    client, _code, csrf = status_client(intake_app, lang)
    message = {"csrf_token": csrf, "text": "Noch etwas", "kind": "addition"}
    sent = client.post(f"/{lang}/report/status/message", data=message)
    assert sent.status_code == 303
    asked = client.post(f"/{lang}/report/status/delete", data={"csrf_token": csrf, "confirm": "y"})
    assert asked.status_code == 303
    html = client.get(f"/{lang}/report/status").get_data(as_text=True)
    assert f"{WORDS[lang]} {day(TODAY, lang)}." in html
    assert html.count(day(TODAY, lang)) >= 3  # received, the message, the deletion request
    assert not ISO_DATE.search(text_of(html))


@pytest.mark.parametrize(
    ("lang", "open_case", "closed", "due", "requested", "deleted"),
    [
        ("de", "Gelöscht werden sie 180 Tage nach dem Abschluss des Falls, also nicht vor dem",
         "Ihre persönlichen Angaben werden am", "werden jetzt gelöscht",
         "Sobald das Moderationsteam Ihre Bitte um Löschung bearbeitet hat",
         "alle Bilder, auch die nachgereichten"),
        ("en", "They will be deleted 180 days after the case is closed, so not before",
         "Your personal details will be deleted on", "are being deleted now",
         "As soon as the moderation team has dealt with your request for deletion",
         "all images, including those added later"),
    ],
)  # fmt: skip
def test_the_status_page_says_until_when_the_details_are_kept(
    intake_app: Flask, lang: str, open_case: str, closed: str, due: str, requested: str,
    deleted: str,
) -> None:  # fmt: skip
    client, _code, _csrf = status_client(intake_app, lang)

    def page() -> str:
        return client.get(f"/{lang}/report/status").get_data(as_text=True)

    def change(**values: object) -> None:
        with intake_app.app_context():
            report = db.session.scalars(select(Report)).one()
            for name, value in values.items():
                setattr(report, name, value)
            db.session.commit()

    html = page()
    assert f"{open_case} {day(TODAY + dt.timedelta(days=180), lang)}" in html
    assert deleted in html
    intake_app.config["RETENTION_DAYS"] = 30  # the operator's setting, read on every visit
    assert f"30 {open_case.split('180 ', 1)[1]} {day(TODAY + dt.timedelta(days=30), lang)}" in (
        html := page()
    )
    deadline = TODAY + dt.timedelta(days=77)
    change(retention_deadline=deadline)
    assert f"{closed} {day(deadline, lang)}" in page()
    change(retention_deadline=TODAY)
    assert due in page()
    change(retention_deadline=None, deletion_requested_on=TODAY)
    html = page()
    assert requested in html
    assert open_case not in html


# --- A refused code comes back in its field -------------------------------------------------


def test_a_wrong_code_comes_back_in_its_field_and_is_never_logged(
    intake_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = intake_app.test_client()
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    twenty = "abcd efgh jkmn pqrs tvwx"  # 20 signs: the plain answer
    wrong = client.post("/de/report/status", data={"csrf_token": csrf, "code": twenty})
    assert wrong.status_code == 404
    html = wrong.get_data(as_text=True)
    assert f'value="{twenty}"' in html  # as typed, spaces and case kept
    assert "Bitte prüfen Sie ihn Zeichen für Zeichen." in html
    assert "gelesen" not in html

    short = "ABCD-EFGH-JKMN-PQRS-TVW"  # one sign missing: the likeliest slip is named
    wrong = client.post("/de/report/status", data={"csrf_token": csrf, "code": short,
                                                   "pending_text": "Mein Text"})  # fmt: skip
    html = wrong.get_data(as_text=True)
    assert f'value="{short}"' in html
    assert "Ein Code hat 20 Zeichen (ohne Bindestriche), wir haben 19 gelesen." in html
    assert ">Mein Text</textarea>" in html  # the message typed before is still there

    hostile = '"><script>alert(1)</script>\u202e\x00'
    html = client.post("/de/report/status", data={"csrf_token": csrf, "code": hostile}).get_data(
        as_text=True
    )
    # Escaped; the invisible direction override and the NUL are gone.
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    for typed in (twenty, short, "ABCDEFGH", "script"):
        assert typed not in caplog.text
        assert typed.replace(" ", "") not in caplog.text


def test_an_english_page_keeps_the_code_and_says_so_in_english(intake_app: Flask) -> None:
    client = intake_app.test_client()
    csrf = hidden_value(client.get("/en/report/status").get_data(as_text=True), "csrf_token")
    html = client.post("/en/report/status", data={"csrf_token": csrf, "code": "ABCD"}).get_data(
        as_text=True
    )
    assert 'value="ABCD"' in html
    assert "A code has 20 characters (without dashes); we read 4." in html


def test_an_expired_form_or_a_rate_limit_keeps_the_code_and_the_pending_text(
    intake_app: Flask,
) -> None:
    typed = {"code": "ABCD EFGH JKMN PQRS TVWX", "pending_text": "Noch nicht gesendet",
             "pending_kind": "addition"}  # fmt: skip
    client = intake_app.test_client()
    client.get("/de/report/status")  # a session, then a form whose token no longer fits
    expired = client.post("/de/report/status", data={"csrf_token": "alt", **typed})
    assert expired.status_code == 400
    html = expired.get_data(as_text=True)
    assert f'value="{typed["code"]}"' in html
    assert ">Noch nicht gesendet</textarea>" in html
    assert 'name="pending_kind" value="addition"' in html

    intake_app.config["STATUS_RATE_LIMIT"] = "1 per 15 minutes"
    csrf = hidden_value(html, "csrf_token")
    environ = {"REMOTE_ADDR": "192.0.2.151"}
    first = client.post("/de/report/status", data={"csrf_token": csrf, **typed},
                        environ_base=environ)  # fmt: skip
    assert first.status_code == 404
    limited = client.post("/de/report/status", data={"csrf_token": csrf, **typed},
                          environ_base=environ)  # fmt: skip
    assert limited.status_code == 429
    html = limited.get_data(as_text=True)
    assert "Zu viele Versuche" in html
    assert f'value="{typed["code"]}"' in html
    assert ">Noch nicht gesendet</textarea>" in html


# --- Staff pages: dates in words too --------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_staff_pages_write_dates_in_words_of_the_accounts_language(
    intake_app: Flask, lang: str
) -> None:
    reporter, _code, csrf = status_client(intake_app)
    reporter.post("/de/report/status/message", data={"csrf_token": csrf, "text": "Hallo"})
    reporter.post("/de/report/status/delete", data={"csrf_token": csrf, "confirm": "y"})
    with intake_app.app_context():
        staff = make_staff(ADMIN, intake_app.config["TEST_RECOVERY_KEY"])
        user = db.session.scalars(select(User).where(User.email == staff.email)).one()
        user.language = lang
        incident = db.session.scalars(select(Incident)).one()
        incident.date_from, incident.date_to = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
        incident.verified_on = incident.coded_on = incident.closed_on = TODAY
        report = db.session.scalars(select(Report)).one()
        report.retention_deadline = TODAY + dt.timedelta(days=180)
        create_token("Beratung Nord", ["submit"], today=TODAY,
                     expires_on=TODAY + dt.timedelta(days=90))  # fmt: skip
        db.session.commit()
        case_id = incident.id
    client = intake_app.test_client()
    assert login(client, staff).status_code == 303
    staff_csrf = hidden_value(client.get("/moderation/").get_data(as_text=True), "csrf_token")

    case = client.get(f"/moderation/cases/{case_id}").get_data(as_text=True)
    assert day(TODAY, lang) in case
    assert day(TODAY + dt.timedelta(days=180), lang) in case
    month = {"de": "November 2026", "en": "November 2026"}[lang]
    assert f'<time datetime="2026-11">{month}</time>' in case
    opened = client.post(f"/moderation/cases/{case_id}/open", data={"csrf_token": staff_csrf})
    tokens = client.get("/moderation/admin/tokens").get_data(as_text=True)
    assert day(TODAY + dt.timedelta(days=90), lang) in tokens
    audit = client.get("/moderation/admin/audit").get_data(as_text=True)
    assert format_day(TODAY, lang) in text_of(audit)
    pages = {
        "queue": client.get("/moderation/queue").get_data(as_text=True),
        "case": case,
        "opened case": opened.get_data(as_text=True),
        "tokens": tokens,
        "audit": audit,
    }
    for name, html in pages.items():
        assert day(TODAY, lang) in html or name == "audit", name
        found = ISO_DATE.findall(text_of(html).replace("–", " "))
        # The audit log's own summaries are fixed English records, not dates for people.
        assert found == [] or name == "audit", (name, found)
