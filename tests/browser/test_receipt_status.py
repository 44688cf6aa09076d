"""The receipt and the status page in a real Chromium, with JavaScript off and on.

The receipt's code stays on one line on a 320 px phone and never breaks inside a group, even
with the browser's text at 200 %; printing gives just the code and the status page's address;
a wrong code stays in its field; the status page says until when the details are kept.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.dates import format_day
from tests.browser.conftest import PHONE, PageFactory, keyed_app, serving
from tests.browser.test_public_pages import axe_violations
from tests.factories import report_form_data
from tests.functional.conftest import hidden_value

pytestmark = pytest.mark.browser

TODAY = dt.datetime.now(dt.UTC).date()
SCRIPTS = pytest.mark.parametrize("scripts", [False, True], ids=["no-js", "js"])

# Where each group of the code lies, and how tall one line of the code is.
CODE_GEOMETRY_JS = """() => {
  const code = document.getElementById("receipt-code");
  const style = getComputedStyle(code);
  const groups = Array.from(code.querySelectorAll(".receipt-group")).map((group) => {
    const rects = group.getClientRects();
    const box = group.getBoundingClientRect();
    return {rects: rects.length, top: box.top, height: box.height, text: group.textContent};
  });
  const box = code.getBoundingClientRect();
  const inner = box.height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom)
    - parseFloat(style.borderTopWidth) - parseFloat(style.borderBottomWidth);
  return {
    groups, inner, lineHeight: parseFloat(style.lineHeight) || 1.6 * parseFloat(style.fontSize),
    fontSize: parseFloat(style.fontSize), right: box.right, viewport: window.innerWidth,
    // The page's own content (the site's header is the layout's business, not this page's).
    contentRight: Math.max(...Array.from(document.querySelectorAll("main *"))
      .filter((el) => el.getClientRects().length).map((el) => el.getBoundingClientRect().right)),
  };
}"""

PAGE_MARGIN_JS = """() => {
  for (const sheet of document.styleSheets) {
    if (!sheet.href || !sheet.href.endsWith("/receipt-print.css")) continue;
    return {media: sheet.media.mediaText, margins: Array.from(sheet.cssRules)
      .filter((rule) => rule instanceof CSSPageRule).map((rule) => rule.style.margin)};
  }
  return null;
}"""


@pytest.fixture(scope="module")
def receipt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A testing app with a migrated database and organisation keys (reports can be made)."""
    app, _ = keyed_app(tmp_path_factory.mktemp("receipt") / "instance")
    with serving(app) as base_url:
        yield base_url


def show_receipt(page: Page, base: str, lang: str) -> str:
    """Send a complete report through the form's steps the way a browser posts them, from a
    page of the service's own origin (the steps' own behaviour is another test's business):
    every step gets every answer (each keeps those it asks for) and "Weiter", the last one
    "Meldung absenden"; the page then shows the receipt. Returns the code."""
    sender = f"{base}/{lang}/test-sender"
    body = {"html": ""}
    page.route(sender, lambda route: route.fulfill(content_type="text/html", body=body["html"]))
    page.goto(f"{base}/{lang}/report")
    for _ in range(10):
        form = page.content()
        final = 'value="send"' in form
        fields = {
            **report_form_data(),
            "csrf_token": html.unescape(hidden_value(form, "csrf_token")),
            "form_state": html.unescape(hidden_value(form, "form_state")),
            "action": "send" if final else "next",
        }
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, values in fields.items()
            for value in (values if isinstance(values, list) else [values])
        )
        body["html"] = (
            f'<!doctype html><form method="post" action="/{lang}/report" '
            f'enctype="multipart/form-data">{inputs}<button>send</button></form>'
        )
        page.goto(sender)
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="send").click()
        if final:
            break
        assert navigation.value is not None
        assert navigation.value.status == 200
    response = navigation.value
    assert response is not None
    assert response.status == 200
    code = page.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"([0-9A-Z]{4}-){4}[0-9A-Z]{4}", code), code
    return code


def code_geometry(page: Page) -> dict[str, Any]:
    geometry: dict[str, Any] = page.evaluate(CODE_GEOMETRY_JS)
    assert [group["text"] for group in geometry["groups"]] == [
        *(f"{text}-" for text in page.locator("#receipt-code").inner_text().split("-")[:-1]),
        page.locator("#receipt-code").inner_text().split("-")[-1],
    ]
    return geometry


def assert_no_group_breaks(geometry: dict[str, Any]) -> None:
    for group in geometry["groups"]:
        assert group["rects"] == 1, group
        assert group["height"] < 1.5 * geometry["lineHeight"], (group, geometry["lineHeight"])


@SCRIPTS
@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_code_stays_on_one_line_on_a_phone_and_whole_groups_at_200_percent_text(
    new_page: PageFactory, receipt_server: str, scripts: bool, lang: str
) -> None:
    page = new_page(viewport=PHONE, java_script_enabled=scripts)
    show_receipt(page, receipt_server, lang)

    geometry = code_geometry(page)
    assert_no_group_breaks(geometry)
    assert len({round(group["top"]) for group in geometry["groups"]}) == 1, geometry
    assert geometry["inner"] < 1.5 * geometry["lineHeight"], geometry  # one line of code
    assert geometry["right"] <= geometry["viewport"]
    assert geometry["contentRight"] <= geometry["viewport"]  # nothing scrolls sideways
    address = page.locator(".status-address")
    expect(address).to_have_text(f"{receipt_server}/{lang}/report/status")
    if scripts:  # axe runs as a script in the page: it cannot where scripts are off
        assert axe_violations(page) == []

    # The browser's text size at 200 % (its font size setting, as on a phone).
    before = geometry["fontSize"]
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    geometry = code_geometry(page)
    assert geometry["fontSize"] >= 1.9 * before, (before, geometry["fontSize"])
    assert_no_group_breaks(geometry)
    assert geometry["contentRight"] <= geometry["viewport"]


@SCRIPTS
def test_printing_gives_just_the_code_and_the_address(
    new_page: PageFactory, receipt_server: str, scripts: bool
) -> None:
    page = new_page(viewport=PHONE, java_script_enabled=scripts)
    code = show_receipt(page, receipt_server, "de")
    offer = page.locator(".print-offer")
    expect(offer).to_contain_text("wählen Sie „Drucken“ im Menü Ihres Browsers")
    button = page.get_by_role("button", name="Code drucken")
    if scripts:
        page.evaluate("() => { window.print = () => { window.printed = true; }; }")
        button.click()
        assert page.evaluate("() => window.printed === true")
    else:
        expect(button).to_be_hidden()
    expect(page.locator(".receipt-sheet .print-only")).to_be_hidden()

    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi: the paper's width
    for hidden_part in (".site-header", ".site-footer", ".main-nav", ".kept-form", ".print-offer",
                        "#kept"):  # fmt: skip
        expect(page.locator(hidden_part)).to_be_hidden()
    expect(page.locator("#receipt-code")).to_have_text(code)
    expect(page.locator(".status-address")).to_have_text(f"{receipt_server}/de/report/status")
    expect(page.locator(".receipt-sheet .print-only")).to_be_visible()
    geometry = code_geometry(page)
    assert geometry["fontSize"] >= 26, geometry  # 20 pt: legible on paper
    assert len({round(group["top"]) for group in geometry["groups"]}) == 1, geometry
    # No page margin: no room for the browser's header and footer (time of printing, address).
    assert page.evaluate(PAGE_MARGIN_JS) == {"media": "print", "margins": ["0px"]}


@SCRIPTS
@pytest.mark.parametrize(
    ("lang", "kept", "read"),
    [
        ("de", "Gelöscht werden sie 180 Tage nach dem Abschluss des Falls, also nicht vor dem",
         "wir haben 19 gelesen"),
        ("en", "They will be deleted 180 days after the case is closed, so not before",
         "we read 19"),
    ],
)  # fmt: skip
def test_a_wrong_code_stays_and_the_status_page_says_until_when_details_are_kept(
    new_page: PageFactory, receipt_server: str, scripts: bool, lang: str, kept: str, read: str
) -> None:
    page = new_page(viewport=PHONE, java_script_enabled=scripts)
    code = show_receipt(page, receipt_server, lang)
    page.goto(f"{receipt_server}/{lang}/report/status")
    typed = code.lower().replace("-", " ")[:-1]  # one sign short, as a slip would leave it
    field = page.locator("#code")
    field.fill(typed)
    with page.expect_navigation() as navigation:
        field.press("Enter")
    assert navigation.value is not None
    assert navigation.value.status == 404
    expect(page.locator("#code")).to_have_value(typed)
    expect(page.get_by_role("alert")).to_contain_text(read)

    page.locator("#code").fill(page.locator("#code").input_value() + code[-1])
    with page.expect_navigation():
        page.locator("#code").press("Enter")
    expect(page.locator("#retention")).to_be_visible()
    later = format_day(TODAY + dt.timedelta(days=180), lang)
    expect(page.locator(".retention")).to_have_text(re.compile(re.escape(f"{kept} {later}")))
    received = page.locator(f'time[datetime="{TODAY.isoformat()}"]').first
    expect(received).to_have_text(format_day(TODAY, lang))
    if scripts:  # axe runs as a script in the page: it cannot where scripts are off
        assert axe_violations(page) == []
