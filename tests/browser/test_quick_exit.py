"""The quick exit in a real Chromium at 320 px, with and without JavaScript, in every language."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from app import create_app
from tests.browser.conftest import PHONE, PageFactory, serving
from tests.browser.test_public_pages import (
    FOCUSED_ELEMENT_JS,
    axe_violations,
    has_visible_focus_indicator,
    is_in_viewport,
    sideways_scrolling,
)
from tests.pages import LANGUAGES, say

pytestmark = pytest.mark.browser

LABELS = {lang: say(lang, "Seite schnell verlassen") for lang in LANGUAGES}
# Pages a frightened person is on: home, help, the form, the status page, a mistyped address.
PATHS = ("/{lang}/", "/{lang}/help", "/{lang}/report", "/{lang}/report/status", "/{lang}/nix")


@pytest.fixture(scope="module")
def exit_site(live_server: str) -> str:
    """Where the quick exit leads in these tests: the network is closed, so a local page."""
    return live_server + "/healthz"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, exit_site: str) -> Iterator[str]:
    """A second server whose quick exit leads to ``exit_site``; yields its base URL."""
    app = create_app(
        {
            "ENV_NAME": "testing",
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("quick-exit") / "instance"),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SESSION_COOKIE_SECURE": False,
            "QUICK_EXIT_URL": exit_site,
        }
    )
    with serving(app) as base_url:
        yield base_url


def phone(new_page: PageFactory, *, scripts: bool) -> Page:
    return new_page(viewport=PHONE, java_script_enabled=scripts)


def open_page(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None
    assert response.status in (200, 404), url


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_quick_exit_is_on_every_public_page_and_leaves(
    new_page: PageFactory, site: str, exit_site: str, lang: str, scripts: bool
) -> None:
    page = phone(new_page, scripts=scripts)
    for path in PATHS:
        url = site + path.format(lang=lang)
        open_page(page, url)
        link = page.get_by_role("link", name=LABELS[lang], exact=True)
        assert link.count() == 1, url
        box = link.bounding_box()
        assert box is not None, url
        assert box["y"] >= 0, url
        assert box["x"] + box["width"] <= PHONE["width"], url
        assert sideways_scrolling(page, url) == []
    # From the last page (a 404), leave.
    page.get_by_role("link", name=LABELS[lang], exact=True).click()
    page.wait_for_url(exit_site)
    assert page.evaluate("() => document.referrer") == ""


def test_after_the_skip_link_the_keyboard_reaches_the_quick_exit(
    new_page: PageFactory, site: str
) -> None:
    page = phone(new_page, scripts=True)
    open_page(page, site + "/de/report")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_ELEMENT_JS)["href"] == "#main"
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED_ELEMENT_JS)
    assert focused["text"] == LABELS["de"], focused
    assert has_visible_focus_indicator(focused), focused
    assert is_in_viewport(focused), focused


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_bar_passes_axe_at_320px(new_page: PageFactory, site: str, lang: str) -> None:
    page = phone(new_page, scripts=True)
    open_page(page, f"{site}/{lang}/help")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    # Sticky: still on screen at the bottom of a long page.
    box = page.get_by_role("link", name=LABELS[lang], exact=True).bounding_box()
    assert box is not None
    assert 0 <= box["y"] < PHONE["height"], box
    assert axe_violations(page) == []


def test_with_scripts_the_exit_replaces_the_page_so_back_does_not_return(
    new_page: PageFactory, site: str, exit_site: str
) -> None:
    page = phone(new_page, scripts=True)
    open_page(page, site + "/de/")
    open_page(page, site + "/de/help")
    page.get_by_role("link", name=LABELS["de"], exact=True).click()
    page.wait_for_url(exit_site)
    page.go_back()
    assert page.url == site + "/de/", "Back led to the page the person left from"


def test_escape_leaves_at_once_outside_fields_and_twice_inside_them(
    new_page: PageFactory, site: str, exit_site: str
) -> None:
    page = phone(new_page, scripts=True)
    open_page(page, site + "/en/help")
    page.keyboard.press("Escape")
    page.wait_for_url(exit_site)

    open_page(page, site + "/en/report/status")
    field = page.locator("main input[type=text]").first
    field.fill("7KQ2")
    field.focus()
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)  # a single press in a field must not leave
    assert page.url == site + "/en/report/status"
    page.keyboard.press("Escape")
    page.wait_for_url(exit_site)


def test_staff_pages_have_no_quick_exit_and_escape_stays(new_page: PageFactory, site: str) -> None:
    page = phone(new_page, scripts=True)
    open_page(page, site + "/moderation/login")
    assert page.locator("a.quick-exit").count() == 0
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url == site + "/moderation/login"
