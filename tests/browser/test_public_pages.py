"""The public pages in a real Chromium: accessibility, small screens, keyboard, privacy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Page, Request

from tests.browser.conftest import DESKTOP, PHONE, SCRIPTLESS_PAGES, PageFactory
from tests.pages import LANGUAGES, page_paths

pytestmark = pytest.mark.browser

# Screenshots also go here so that a person can look at them after the run.
# Pictures of the main pages in every language, for a person to look at (README, "Tests").
SCREENSHOT_DIR = Path(
    os.environ.get("MELDEPORTAL_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "build" / "screenshots"
)

# axe is injected with Page.evaluate, which goes through the DevTools protocol and is not subject
# to the site's Content-Security-Policy (script-src 'self'), so no context needs bypass_csp.
AXE = Axe()

# Facts about the focused element, read in the page.
FOCUSED_ELEMENT_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    text: el.textContent.trim().replace(/\\s+/g, " "),
    href: el.getAttribute("href"),
    link: Array.from(document.querySelectorAll("a[href]")).indexOf(el),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
    top: box.top, left: box.left, bottom: box.bottom, right: box.right,
    width: box.width, height: box.height,
    viewportWidth: window.innerWidth, viewportHeight: window.innerHeight,
  };
}"""

# Elements that reach past the right edge of the viewport, to say why a page scrolls sideways.
OVERFLOWING_ELEMENTS_JS = """() => {
  const limit = window.innerWidth;
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && (box.right > limit + 0.5 || box.left < -0.5)) {
      const cls = el.className && typeof el.className === "string"
        ? "." + el.className.trim().split(/\\s+/).join(".") : "";
      const where = `left=${Math.round(box.left)} right=${Math.round(box.right)}`;
      found.push(`${el.tagName.toLowerCase()}${cls} ${where}`);
    }
  }
  return found.slice(0, 10);
}"""


def open_path(
    page: Page,
    base_url: str,
    path: str,
    wait_until: Literal["domcontentloaded", "load", "networkidle"] = "load",
) -> None:
    response = page.goto(base_url + path, wait_until=wait_until)
    assert response is not None, path
    assert response.status == 200, f"{path}: HTTP {response.status}"


def axe_violations(page: Page) -> list[str]:
    """Run axe-core on the page; one readable line per violation."""
    if page in SCRIPTLESS_PAGES:
        pytest.fail("axe needs JavaScript: run it in a context with scripts (it would hang here)")
    results = AXE.run(page)
    lines = []
    for violation in results.response["violations"]:
        targets = " | ".join(
            " ".join(str(selector) for selector in node["target"]) for node in violation["nodes"]
        )
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return lines


def has_visible_focus_indicator(focused: dict[str, Any]) -> bool:
    outline = focused["outlineStyle"] != "none" and focused["outlineWidth"] > 0
    return outline or focused["boxShadow"] != "none"


# Layout boxes have fractional edges; Chromium scrolls whole pixels into view.
SUBPIXEL = 1.0


def is_in_viewport(focused: dict[str, Any]) -> bool:
    return (
        focused["width"] > 0
        and focused["height"] > 0
        and focused["top"] >= -SUBPIXEL
        and focused["left"] >= -SUBPIXEL
        and focused["bottom"] <= focused["viewportHeight"] + SUBPIXEL
        and focused["right"] <= focused["viewportWidth"] + SUBPIXEL
    )


@pytest.mark.parametrize("path", page_paths())
def test_page_passes_axe_on_desktop_and_fits_a_320px_screen(
    page: Page, live_server: str, path: str
) -> None:
    # Both widths in one page load: a fresh context per page costs more than axe itself.
    # 320 CSS px is WCAG 1.4.10 Reflow (1280px at 400% zoom). The context is not is_mobile: a
    # mobile viewport would zoom out to fit wide content and so hide the overflow looked for here.
    open_path(page, live_server, path)
    problems = [f"at {DESKTOP['width']}px: {line}" for line in axe_violations(page)]

    page.set_viewport_size(PHONE)
    problems += sideways_scrolling(page, f"at {PHONE['width']}px")
    problems += [f"at {PHONE['width']}px: {line}" for line in axe_violations(page)]
    larger_text(page)  # WCAG 1.4.4
    problems += sideways_scrolling(page, f"at {PHONE['width']}px with 200 % text")
    assert problems == [], f"{path}:\n" + "\n".join(problems)


def larger_text(page: Page) -> None:
    """The browser's text at 200 %: the root font size, which every size in rem follows. (A
    style attribute set through the CSSOM; the CSP only stops inline style in the markup.)"""
    page.evaluate("document.documentElement.style.fontSize = '200%'")


def sideways_scrolling(page: Page, where: str) -> list[str]:
    """A problem line if the page is wider than the window (to either side: right to left,
    what sticks out on the left scrolls)."""
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width <= inner_width:
        return []
    return [
        f"{where}: scrolls sideways, content is {scroll_width}px wide; "
        f"too wide: {page.evaluate(OVERFLOWING_ELEMENTS_JS)}"
    ]


def test_skip_link_is_first_visible_on_focus_and_jumps_to_main(
    page: Page, live_server: str
) -> None:
    open_path(page, live_server, "/de/")
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED_ELEMENT_JS)
    assert focused is not None, "Tab focused nothing"
    assert focused["text"] == "Zum Inhalt springen", focused
    assert focused["href"] == "#main", focused
    assert is_in_viewport(focused), f"focused skip link is not on screen: {focused}"
    assert has_visible_focus_indicator(focused), f"skip link shows no focus: {focused}"

    page.keyboard.press("Enter")
    page.wait_for_function("() => window.location.hash === '#main'")
    assert page.evaluate("() => window.location.hash") == "#main"
    after = page.evaluate(FOCUSED_ELEMENT_JS)
    assert after is not None, "focus was lost after following the skip link"
    assert after["id"] == "main", after


def test_every_link_on_the_home_page_is_reachable_by_keyboard_with_visible_focus(
    page: Page, live_server: str
) -> None:
    open_path(page, live_server, "/en/")
    links: list[str] = page.evaluate(
        "() => Array.from(document.querySelectorAll('a[href]'), a => a.getAttribute('href'))"
    )
    assert 0 < len(links) <= 30, f"{len(links)} links; raise the tab limit deliberately"

    reached: set[int] = set()
    without_focus: list[dict[str, Any]] = []
    off_screen: list[dict[str, Any]] = []
    for _ in range(len(links) + 3):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_ELEMENT_JS)
        if focused is None:  # past the last element, back to the document
            break
        if not has_visible_focus_indicator(focused):
            without_focus.append(focused)
        if not is_in_viewport(focused):
            off_screen.append(focused)
        if focused["link"] >= 0:
            reached.add(focused["link"])
        if len(reached) == len(links):
            break

    missed = [href for index, href in enumerate(links) if index not in reached]
    assert missed == [], f"links never reached with Tab: {missed}"
    assert without_focus == [], f"focused without visible indicator: {without_focus}"
    assert off_screen == [], f"focused but not scrolled into view: {off_screen}"


def test_language_switch_leads_to_the_same_page_in_english(page: Page, live_server: str) -> None:
    open_path(page, live_server, "/de/network")
    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_url(live_server + "/en/network")
    assert page.url == live_server + "/en/network"
    assert page.locator("html").get_attribute("lang") == "en"


def test_visiting_every_page_contacts_no_one_else_logs_no_error_and_leaves_no_trace(
    page: Page, live_server: str
) -> None:
    requests: list[str] = []
    errors: list[str] = []

    def on_request(request: Request) -> None:
        requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":  # CSP violations and failed loads are reported here
            errors.append(f"{page.url}: {message.text}")

    def on_page_error(error: Exception) -> None:
        errors.append(f"{page.url}: uncaught {error}")

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    for path in page_paths():
        # networkidle: also catch what loads late (favicon, fonts, anything a script fetches).
        open_path(page, live_server, path, wait_until="networkidle")

    assert len(requests) >= len(page_paths())
    offsite = [url for url in requests if not url.startswith((live_server + "/", "data:"))]
    assert offsite == [], f"requests to other origins: {offsite}"
    assert errors == [], "console errors:\n" + "\n".join(errors)
    assert page.context.cookies() == []
    assert page.context.storage_state()["origins"] == [], "pages left data in localStorage"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_screenshots_for_a_person_to_look_at(
    new_page: PageFactory, live_server: str, tmp_path: Path, lang: str
) -> None:
    shots = {
        f"{lang}-home-320.png": (f"/{lang}/", PHONE),
        f"{lang}-home-1280.png": (f"/{lang}/", DESKTOP),
        f"{lang}-help-320.png": (f"/{lang}/help", PHONE),
        f"{lang}-network-1280.png": (f"/{lang}/network", DESKTOP),
    }
    for name, (path, viewport) in shots.items():
        page = new_page(viewport=viewport)
        open_path(page, live_server, path)
        target = tmp_path / name
        page.screenshot(path=str(target), full_page=True)
        assert target.read_bytes().startswith(b"\x89PNG"), name
        try:
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, SCREENSHOT_DIR / name)
        except OSError:
            pass  # only a convenience: the shot in tmp_path is what the test checks
