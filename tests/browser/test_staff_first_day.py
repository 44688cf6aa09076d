"""A staff member's first day in a real Chromium (issue 15, items 13 and 14): the invitation,
the QR code (inline SVG with an accessible name), a wrong code refused, the right one activating
the account, and the message of a moderator whose key is not granted yet. German and English,
320 px and desktop, JavaScript off and on; no page scrolls sideways, and axe checks every page
in the runs with JavaScript."""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import select

from app.crypto import credentials
from app.extensions import db
from app.models import User
from app.models.user import ADMIN, MODERATOR
from app.moderation.invitations import invite
from tests.browser.conftest import DESKTOP, PHONE, PageFactory, keyed_app, serving
from tests.browser.test_public_pages import axe_violations, sideways_scrolling
from tests.staff import PASSWORD, make_staff

pytestmark = pytest.mark.browser

WORDS = {
    "de": {
        "qr": "QR-Code zum Einrichten der Authenticator-App für",
        "wrong": "Dieser Code passt nicht.",
        "confirm": "Bestätigen und Konto aktivieren",
        "active": "Ihr Konto ist aktiv.",
        "not_granted": "Ihr Schlüssel ist noch nicht freigegeben.",
        "button": "„Schlüssel an neue Konten freigeben“",
        "again": "Melden Sie sich danach bitte ab und neu an",
        "create": "Konto anlegen",
    },
    "en": {
        "qr": "QR code to set up the authenticator app for",
        "wrong": "This code does not fit.",
        "confirm": "Confirm and activate the account",
        "active": "your account is active.",
        "not_granted": "Your key has not been granted yet.",
        "button": "“Grant keys to new accounts”",
        "again": "Afterwards, please log out and log in again",
        "create": "Create account",
    },
}


@pytest.fixture(scope="module")
def first_day_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    """A migrated app with an organisation key and an admin who invites."""
    app, recovery = keyed_app(tmp_path_factory.mktemp("first-day") / "instance")
    with app.test_request_context():
        make_staff(ADMIN, recovery, "chefin@example.org")
    with serving(app) as base_url:
        yield base_url, app


def invitation_path(app: Flask, email: str) -> str:
    with app.test_request_context():
        admin = db.session.scalars(select(User).where(User.email == "chefin@example.org")).one()
        token = invite(email, MODERATOR, by=admin, now=dt.datetime.now(dt.UTC))
        db.session.commit()
        return urlsplit(url_for("moderation.invitation", token=token)).path


def code_for(secret_text: str, offset: int = 0) -> str:
    secret = base64.b32decode(secret_text.replace(" ", ""))  # 20 bytes: 32 letters, no padding
    return credentials.totp_code(secret, credentials.totp_step(time.time()) + offset)


def audit(page: Page, name: str, javascript: bool) -> list[str]:
    """axe's findings on the page, named. Only with JavaScript: with it disabled, Chromium still
    evaluates the injected axe but never fires its timers, so ``axe.run`` never settles and the
    evaluate call (which has no timeout) hangs the test run for good."""
    if not javascript:
        return []
    return [f"{name}: {line}" for line in axe_violations(page)]


def assert_no_sideways_scroll(page: Page, viewport: ViewportSize) -> None:
    # Unlike axe, the check needs no timers: it works with JavaScript disabled too.
    assert page.viewport_size == viewport
    assert sideways_scrolling(page, page.url) == []


# Every pair of language, width and JavaScript occurs once: four runs instead of eight, each
# with its own invitation.
@pytest.mark.parametrize(
    ("lang", "viewport", "javascript"),
    [
        pytest.param("de", PHONE, False, id="de-320px-no-js"),
        pytest.param("en", PHONE, True, id="en-320px-js"),
        pytest.param("de", DESKTOP, True, id="de-desktop-js"),
        pytest.param("en", DESKTOP, False, id="en-desktop-no-js"),
    ],
)
def test_invitation_qr_code_confirmation_and_the_key_message(
    new_page: PageFactory,
    first_day_server: tuple[str, Flask],
    lang: str,
    viewport: ViewportSize,
    javascript: bool,
) -> None:
    base_url, app = first_day_server
    words = WORDS[lang]
    email = f"neu-{lang}-{viewport['width']}-{int(javascript)}@example.org"
    page = new_page(viewport=viewport, java_script_enabled=javascript,
                    locale="de-DE" if lang == "de" else "en-GB")  # fmt: skip
    page.goto(base_url + invitation_path(app, email))
    problems = audit(page, "invitation", javascript)
    assert_no_sideways_scroll(page, viewport)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_again").fill(PASSWORD)
    page.get_by_role("button", name=words["create"]).click()

    # The QR code: an image with an accessible name, drawn inline, visible, on the screen.
    qr = page.get_by_role("img", name=f"{words['qr']} {email}")
    expect(qr).to_be_visible()
    assert qr.evaluate("node => node.tagName.toLowerCase()") == "svg"
    box = qr.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    secret_text = page.locator("#totp-secret").inner_text()
    problems += audit(page, "enrolment", javascript)
    assert_no_sideways_scroll(page, viewport)

    page.locator("#code").fill("000000" if code_for(secret_text) != "000000" else "111111")
    with page.expect_response(lambda response: response.request.method == "POST") as refused:
        page.get_by_role("button", name=words["confirm"]).click()
    assert refused.value.status == 422
    assert words["wrong"] in page.locator(".error-summary").inner_text()
    assert page.locator("#code").get_attribute("aria-invalid") == "true"
    expect(page.get_by_role("img", name=f"{words['qr']} {email}")).to_be_visible()
    assert page.locator("#totp-secret").inner_text() == secret_text
    problems += audit(page, "wrong code", javascript)
    assert_no_sideways_scroll(page, viewport)

    page.locator("#code").fill(code_for(secret_text))
    page.get_by_role("button", name=words["confirm"]).click()
    assert words["active"] in page.locator("main").inner_text()
    notice = page.locator("#key-notice").inner_text()
    assert words["not_granted"] in notice
    assert words["button"] in notice
    assert words["again"] in notice
    problems += audit(page, "home", javascript)
    assert_no_sideways_scroll(page, viewport)
    page.goto(base_url + "/moderation/queue")
    assert words["not_granted"] in page.locator("#key-notice").inner_text()
    assert_no_sideways_scroll(page, viewport)
    with app.app_context():
        account = db.session.scalars(select(User).where(User.email == email)).one()
        assert account.totp_confirmed_on is not None
        assert account.language == lang
    assert problems == []
