"""A staff member's first day: invitation, the QR code, one current code to confirm it, and
what a moderator whose key is not granted yet is told (issue 15, items 13 and 14)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit import AuditTag
from app.crypto import credentials
from app.extensions import db
from app.models import AuditEvent, Incident, User
from app.models.user import MODERATOR, RESEARCHER
from tests.factories import store_sample_report
from tests.functional.conftest import hidden_value
from tests.functional.test_moderation_access import login
from tests.functional.test_moderation_admin import admin_client
from tests.staff import PASSWORD, Staff, secret_of

NOT_GRANTED_DE = "Ihr Schlüssel ist noch nicht freigegeben."
BUTTON_DE = "„Schlüssel an neue Konten freigeben“"


def invite(app: Flask, email: str, role: str = MODERATOR) -> tuple[FlaskClient, str]:
    """An admin invites; returns the admin's client and the invitation's path."""
    client, _, csrf = admin_client(app)
    page = client.post("/moderation/admin/invitations",
                       data={"csrf_token": csrf, "email": email, "role": role})  # fmt: skip
    link = re.search(r"(http://[^<\s]+/moderation/invitation/[^<\s]+)", page.get_data(as_text=True))
    assert link
    return client, urlsplit(link.group(1)).path


def choose_password(app: Flask, path: str) -> tuple[FlaskClient, str]:
    """The invited person sets a password; returns their browser and the enrolment page."""
    newcomer = app.test_client()
    form = newcomer.get(path).get_data(as_text=True)
    done = newcomer.post(path, data={"csrf_token": hidden_value(form, "csrf_token"),
                                     "password": PASSWORD, "password_again": PASSWORD})  # fmt: skip
    assert done.status_code == 303
    page = newcomer.get(done.headers["Location"])
    assert page.status_code == 200
    return newcomer, page.get_data(as_text=True)


def staff_from(html: str, email: str, role: str = MODERATOR) -> Staff:
    uri = re.search(r"(otpauth://totp/[^<\s]+)", html)
    assert uri
    recovery = re.findall(r"([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", html)
    return Staff(email, role, PASSWORD, secret_of(uri.group(1).replace("&amp;", "&")), recovery)


def wrong_code(staff: Staff) -> str:
    now = time.time()
    near = {staff.code(now + delta) for delta in (-90, -60, -30, 0, 30, 60, 90)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


def user(app: Flask, email: str) -> User:
    with app.app_context():
        found = db.session.scalars(select(User).where(User.email == email)).one()
        db.session.expunge(found)
        return found


def test_the_enrolment_page_shows_the_qr_code_and_confirms_one_current_code(
    intake_app: Flask,
) -> None:
    admin, path = invite(intake_app, "lea@example.org")
    newcomer, html = choose_password(intake_app, path)
    # The QR code: inline SVG drawn here, named for screen readers, no style attribute.
    svg = re.search(r"<svg [^>]*>.*?</svg>", html, re.DOTALL)
    assert svg
    assert 'role="img"' in svg.group(0)
    assert 'aria-labelledby="totp-qr-title"' in svg.group(0)
    assert re.search(r'<title id="totp-qr-title">QR-Code zum Einrichten der Authenticator-App '
                     r"für lea@example.org</title>", svg.group(0))  # fmt: skip
    assert "style=" not in svg.group(0)
    assert "xmlns" not in svg.group(0)
    lea = staff_from(html, "lea@example.org")
    assert credentials.secret_text(lea.secret) in html  # the key written out in groups
    assert len(lea.recovery_codes) == 10
    assert user(intake_app, "lea@example.org").totp_confirmed_on is None

    # Not active yet: a recovery code does not open an unconfirmed account.
    assert login(intake_app.test_client(), Staff(**{**lea.__dict__,
                 "recovery_codes": [lea.recovery_codes[0]]})).status_code == 401  # fmt: skip
    csrf = hidden_value(html, "csrf_token")
    wrong = newcomer.post("/moderation/enrolment", data={"csrf_token": csrf,
                                                         "code": wrong_code(lea)})  # fmt: skip
    assert wrong.status_code == 422
    again = wrong.get_data(as_text=True)
    assert "Dieser Code passt nicht." in again
    assert 'aria-invalid="true"' in again
    assert f'value="{wrong_code(lea)}"' in again  # nothing typed is lost
    assert '<svg id="totp-qr"' in again  # the QR code is shown again, and the codes
    assert all(code in again for code in lea.recovery_codes)
    assert user(intake_app, "lea@example.org").totp_confirmed_on is None

    right = newcomer.post("/moderation/enrolment", data={"csrf_token": csrf, "code": lea.code()})
    assert right.status_code == 303
    assert right.headers["Location"].endswith("/moderation/?confirmed=1")
    home = newcomer.get(right.headers["Location"]).get_data(as_text=True)
    assert "Die Authenticator-App ist bestätigt: Ihr Konto ist aktiv." in home
    confirmed = user(intake_app, "lea@example.org")
    assert confirmed.totp_confirmed_on is not None
    assert confirmed.totp_enrolment_key is None
    with intake_app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == AuditTag.ACCOUNT_CONFIRM_SECOND_FACTOR.value,
            AuditEvent.target_id == confirmed.id)).all()  # fmt: skip
        assert [(event.actor_id, event.target_id) for event in events] == [
            (confirmed.id, confirmed.id)
        ]
    # The ticket in the cookie is gone with the new session; another browser never had one.
    fresh_csrf = hidden_value(home, "csrf_token")
    assert (
        newcomer.post(
            "/moderation/enrolment", data={"csrf_token": fresh_csrf, "code": lea.code()}
        ).status_code
        == 409
    )
    assert intake_app.test_client().get("/moderation/enrolment").status_code == 404
    accounts = admin.get("/moderation/admin/accounts").get_data(as_text=True)
    assert "wartet auf Schlüssel" in accounts


def test_a_code_from_the_app_at_login_confirms_an_enrolment_left_open(intake_app: Flask) -> None:
    _, path = invite(intake_app, "ben@example.org", RESEARCHER)
    _, html = choose_password(intake_app, path)
    ben = staff_from(html, "ben@example.org", RESEARCHER)
    browser = intake_app.test_client()
    assert login(browser, ben, totp=True).status_code == 303
    assert user(intake_app, "ben@example.org").totp_confirmed_on is not None
    assert browser.get("/moderation/").status_code == 200


def test_a_moderator_without_a_granted_key_is_told_what_to_do(intake_app: Flask) -> None:
    with intake_app.app_context():
        store_sample_report(intake_app.config["RECEIPT_SECRET"].encode())
        db.session.commit()
        case_id = db.session.scalars(select(Incident.id)).one()
    admin, path = invite(intake_app, "cem@example.org")
    newcomer, html = choose_password(intake_app, path)
    cem = staff_from(html, "cem@example.org")
    done = newcomer.post(
        "/moderation/enrolment",
        data={"csrf_token": hidden_value(html, "csrf_token"), "code": cem.code()},
    )
    assert done.status_code == 303
    for page in ("/moderation/", "/moderation/queue", f"/moderation/cases/{case_id}"):
        text = newcomer.get(page).get_data(as_text=True)
        assert NOT_GRANTED_DE in text, page
        assert BUTTON_DE in text, page
        assert "Melden Sie sich danach bitte ab und neu an" in text, page
    csrf = hidden_value(
        newcomer.get(f"/moderation/cases/{case_id}").get_data(as_text=True), "csrf_token"
    )
    opened = newcomer.post(f"/moderation/cases/{case_id}/open", data={"csrf_token": csrf})
    assert opened.status_code == 409
    assert NOT_GRANTED_DE in opened.get_data(as_text=True)
    note = newcomer.post(f"/moderation/cases/{case_id}/notes",
                         data={"csrf_token": csrf, "text": "Meine Notiz"})  # fmt: skip
    assert note.status_code == 409
    assert "Meine Notiz" in note.get_data(as_text=True)  # nothing typed is lost
    assert newcomer.get("/moderation/queue").status_code == 200  # still logged in

    # The admin's page has the very button the message names.
    accounts = admin.get("/moderation/admin/accounts").get_data(as_text=True)
    assert ">Schlüssel an neue Konten freigeben</button>" in accounts
    admin_csrf = hidden_value(accounts, "csrf_token")
    assert admin.post("/moderation/admin/keys/grant",
                      data={"csrf_token": admin_csrf}).status_code == 200  # fmt: skip
    after = newcomer.get("/moderation/").get_data(as_text=True)
    assert "Ihr Schlüssel ist inzwischen freigegeben. Bitte melden Sie sich ab und neu an" in after
    fresh = intake_app.test_client()
    assert login(fresh, cem).status_code == 303
    page = fresh.get(f"/moderation/cases/{case_id}").get_data(as_text=True)
    assert "Ihr Schlüssel ist" not in page

    # In English, the message quotes the English button.
    _, second = invite(intake_app, "dana@example.org")
    dana_browser, dana_html = choose_password(intake_app, second)
    dana = staff_from(dana_html, "dana@example.org")
    dana_browser.post("/moderation/enrolment",
                      data={"csrf_token": hidden_value(dana_html, "csrf_token"),
                            "code": dana.code()})  # fmt: skip
    with intake_app.app_context():
        account = db.session.scalars(select(User).where(User.email == "dana@example.org")).one()
        account.language = "en"
        db.session.commit()
    english = dana_browser.get("/moderation/queue").get_data(as_text=True)
    assert "Your key has not been granted yet." in english
    assert "“Grant keys to new accounts”" in english
