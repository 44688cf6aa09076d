"""The public charts (HTML and CSS pictures) as Chromium draws them, at 320 px and at 1280 px,
with the browser's text at 100 % and at 200 %: every text of every chart is drawn at 12 px or
more, none overlaps another text or a shape, none leaves its chart or the screen, and every bar
is as long as its number says. Right to left, bars grow from the right; with scripts off and
SVG blocked, as Tor Browser's "Safest" does, the charts still show, and no font is loaded.

What is measured is what Chromium draws, not the classes in the markup.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import DESKTOP, PHONE, PageFactory, at_safest_level, font_requests
from tests.browser.test_public_pages import larger_text, sideways_scrolling
from tests.browser.test_statistics_pages import (  # noqa: F401  (a fixture, used by name)
    statistics_server,
)
from tests.integration.test_statistics_page import nice_scale
from tests.staff import Staff

pytestmark = pytest.mark.browser

# For every chart whose picture is displayed: the size of each text, texts that overlap other
# texts or shapes (bars, tiles, swatches), texts and boxes that leave the chart or the screen,
# and each bar's drawn length beside the room its track gives it. Text boxes are the glyphs'
# own (a Range's client rects, one per line), not the boxes of their elements.
MEASURE_CHARTS_JS = """
() => {
  const problems = [];
  const shown = [];
  const bars = [];
  let smallest = Infinity;
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  const inside = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5
    && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
  const px = (style, name) => parseFloat(style[name]) || 0;
  for (const figure of document.querySelectorAll("figure.chart")) {
    const picture = figure.querySelector("[role=img]");
    const frame = picture.getBoundingClientRect();
    if (frame.width === 0 || frame.height === 0) continue;
    shown.push(figure.id);
    for (const element of picture.querySelectorAll("*")) {
      const box = element.getBoundingClientRect();
      if (box.width > 0 && (box.left < -0.5 || box.right > innerWidth + 0.5)) {
        problems.push(`${figure.id}: .${element.className} reaches beyond the screen`);
      }
    }
    const texts = [];
    const walker = document.createTreeWalker(picture, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const name = `${figure.id}: "${node.textContent.trim()}"`;
      const size = parseFloat(getComputedStyle(node.parentElement).fontSize);
      smallest = Math.min(smallest, size);
      if (size < 12) problems.push(`${name} at ${size}px`);
      const range = document.createRange();
      range.selectNodeContents(node);
      const boxes = [...range.getClientRects()].filter((box) => box.width > 0 && box.height > 0);
      if (!boxes.length) problems.push(`${name} is not drawn`);
      for (const box of boxes) {
        if (!inside(box, frame)) problems.push(`${name} leaves its chart`);
        texts.push([name, box, node.parentElement.closest(".tile")]);
      }
    }
    const shapes = [...picture.querySelectorAll(".chart-bar, .tile, .chart-swatch")]
      .map((shape) => [shape, shape.getBoundingClientRect()]);
    texts.forEach(([name, box, tile], index) => {
      for (const [other, otherBox] of texts.slice(0, index)) {
        if (overlap(box, otherBox)) problems.push(`${name} overlaps ${other}`);
      }
      for (const [shape, shapeBox] of shapes) {
        if (shape === tile) {
          if (!inside(box, shapeBox)) problems.push(`${name} leaves its tile`);
        } else if (overlap(box, shapeBox)) {
          problems.push(`${name} overlaps a .${shape.className}`);
        }
      }
    });
    shapes.forEach(([shape, box], index) => {
      for (const [, otherBox] of shapes.slice(0, index)) {
        if (overlap(box, otherBox)) problems.push(`${figure.id}: .${shape.className} overlaps`);
      }
    });
    for (const bar of picture.querySelectorAll(".chart-bar")) {
      const track = bar.parentElement;
      const style = getComputedStyle(track);
      const t = track.getBoundingClientRect();
      const b = bar.getBoundingClientRect();
      const label = bar.closest("[data-key]").querySelector(".chart-label").getBoundingClientRect();
      const value = bar.querySelector(".chart-value > span").getBoundingClientRect();
      const columns = style.flexDirection === "column";
      // The track's content box: the room a bar of 100 % fills.
      const content = {
        left: t.left + px(style, "borderLeftWidth") + px(style, "paddingLeft"),
        right: t.right - px(style, "borderRightWidth") - px(style, "paddingRight"),
        top: t.top + px(style, "borderTopWidth") + px(style, "paddingTop"),
        bottom: t.bottom - px(style, "borderBottomWidth") - px(style, "paddingBottom"),
      };
      bars.push({
        chart: figure.id,
        key: bar.closest("[data-key]").dataset.key,
        value: Number(bar.textContent),
        percent: Number([...bar.classList].find((name) => name.startsWith("len-")).slice(4)),
        columns,
        length: columns ? b.height : b.width,
        room: columns ? content.bottom - content.top : content.right - content.left,
        bar: {left: b.left, right: b.right, top: b.top, bottom: b.bottom},
        content,
        label: {left: label.left, right: label.right, top: label.top, bottom: label.bottom},
        value_box: {left: value.left, right: value.right, top: value.top, bottom: value.bottom},
      });
    }
  }
  const tiles = {};
  for (const tile of document.querySelectorAll(".tile")) {
    const box = tile.getBoundingClientRect();
    tiles[tile.dataset.key] = {left: box.left, top: box.top, right: box.right};
  }
  return {shown, smallest, problems, bars, tiles};
}
"""

CHARTS = ["chart-years", "chart-months", "chart-types", "chart-lands"]
LAST_YEAR = dt.date.today().year - 1
# Layout boxes have fractional edges; a bar's length in whole percent of its room is drawn to
# within this many pixels.
SUBPIXEL = 1.0


def measure(page: Page) -> dict[str, Any]:
    measured: dict[str, Any] = page.evaluate(MEASURE_CHARTS_JS)
    return measured


def check_lengths(bars: list[dict[str, Any]]) -> float:
    """Every bar is its class's share of its track, and that is its number's share of the
    chart's scale (to half a percent, the rounding to whole percents; 1 % at least for a
    count); returns the largest distance in pixels between a bar's drawn length and its exact
    length."""
    worst = 0.0
    for chart in {bar["chart"] for bar in bars}:
        drawn = [bar for bar in bars if bar["chart"] == chart]
        scale = nice_scale(max(bar["value"] for bar in drawn))
        rooms = {round(bar["room"], 1) for bar in drawn}
        assert len(rooms) == 1, f"{chart}: bars have different room {rooms}"
        for bar in drawn:
            assert bar["length"] == pytest.approx(bar["room"] * bar["percent"] / 100, abs=SUBPIXEL)
            exact = bar["room"] * bar["value"] / scale
            if bar["value"]:  # a count is never drawn shorter than 1 %
                exact = max(exact, bar["room"] / 100)
            assert abs(bar["length"] - exact) <= bar["room"] / 200 + SUBPIXEL, (chart, bar)
            assert (bar["length"] > 0) == (bar["value"] > 0), (chart, bar)
            worst = max(worst, abs(bar["length"] - exact))
    return worst


@pytest.mark.parametrize(
    ("lang", "year"), [("de", None), ("en", LAST_YEAR), ("tr", None), ("ar", LAST_YEAR)]
)
@pytest.mark.parametrize("text", [100, 200], ids=["text100", "text200"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["320px", "1280px"])
def test_every_chart_text_is_readable_and_in_its_place(
    new_page: PageFactory,
    statistics_server: tuple[str, Staff],  # noqa: F811
    lang: str,
    year: int | None,
    text: int,
    viewport: dict[str, int],
) -> None:
    base_url, _researcher = statistics_server
    page = new_page(viewport=viewport)
    query = f"?year={year}" if year else ""
    response = page.goto(f"{base_url}/{lang}/statistics{query}")
    assert response is not None
    assert response.status == 200
    if text == 200:
        larger_text(page)
    measured = measure(page)

    assert measured["shown"] == CHARTS
    assert measured["problems"] == []
    assert measured["smallest"] >= 12
    check_lengths(measured["bars"])
    assert sideways_scrolling(page, page.url) == []


def layout(measured: dict[str, Any], chart: str) -> str:
    """How a series chart is drawn: "columns", bars with the label "beside" or "above"."""
    bars = [bar for bar in measured["bars"] if bar["chart"] == chart]
    if all(bar["columns"] for bar in bars):
        assert all(bar["label"]["top"] >= bar["content"]["bottom"] for bar in bars)
        return "columns"
    assert not any(bar["columns"] for bar in bars)
    if all(bar["label"]["bottom"] <= bar["bar"]["top"] + SUBPIXEL for bar in bars):
        return "above"
    # Beside: on the left of the axis, or on its right in a right-to-left page.
    assert all(
        bar["label"]["right"] <= bar["bar"]["left"] or bar["label"]["left"] >= bar["bar"]["right"]
        for bar in bars
    )
    return "beside"


def is_map(tiles: dict[str, dict[str, float]]) -> bool:
    """The tiles stand as the map of Germany: west on the left, north at the top."""
    west, east = tiles["nw"], tiles["bb"]
    return (
        west["top"] == east["top"]
        and west["right"] < east["left"]
        and (tiles["sh"]["top"] < tiles["ni"]["top"] < tiles["by"]["top"])
    )


@pytest.mark.parametrize(
    ("viewport", "text", "expected"),
    [
        (PHONE, 100, ["beside", "beside", "above", "map"]),
        (PHONE, 200, ["above", "above", "above", "flow"]),
        (DESKTOP, 100, ["columns", "columns", "beside", "map"]),
        (DESKTOP, 200, ["columns", "columns", "beside", "map"]),
    ],
    ids=["320px", "320px-text200", "1280px", "1280px-text200"],
)
def test_each_chart_takes_the_layout_its_room_allows(
    new_page: PageFactory,
    statistics_server: tuple[str, Staff],  # noqa: F811
    viewport: dict[str, int],
    text: int,
    expected: list[str],
) -> None:
    """Periods as columns on a wide screen; bars elsewhere, their labels beside them where
    there is room; the Länder as a map, or (with very large text on a phone) as a list of
    tiles. Labels are whole: the chart's label is the table's."""
    base_url, _researcher = statistics_server
    page = new_page(viewport=viewport)
    page.goto(f"{base_url}/de/statistics")
    if text == 200:
        larger_text(page)
    measured = measure(page)

    drawn = [layout(measured, chart) for chart in CHARTS[:3]]
    drawn.append("map" if is_map(measured["tiles"]) else "flow")
    assert drawn == expected
    labels = page.locator("#chart-types .chart-label").all_inner_texts()
    rows = page.locator("table.statistics").nth(2).locator("tbody th").all_inner_texts()
    assert [" ".join(label.split()) for label in labels] == rows
    assert all("…" not in label for label in labels)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["320px", "1280px"])
def test_right_to_left_the_bars_grow_from_the_right_and_the_map_stays(
    new_page: PageFactory,
    statistics_server: tuple[str, Staff],  # noqa: F811
    viewport: dict[str, int],
) -> None:
    """No rule of the stylesheet names a direction: logical properties turn the charts round
    by themselves. The map of Germany is not mirrored: west stays on the left."""
    base_url, _researcher = statistics_server
    page = new_page(viewport=viewport)
    page.goto(f"{base_url}/de/statistics")
    ltr = measure(page)
    page.evaluate("document.documentElement.dir = 'rtl'")
    rtl = measure(page)

    assert rtl["problems"] == []
    check_lengths(rtl["bars"])
    assert sideways_scrolling(page, page.url) == []
    for before, after in zip(ltr["bars"], rtl["bars"], strict=True):
        bar, content = after["bar"], after["content"]
        if after["columns"]:  # columns rise from the axis and run from right to left
            assert bar["bottom"] == pytest.approx(content["bottom"], abs=SUBPIXEL)
            continue
        # Left to right a bar starts at its track's left edge, right to left at its right edge,
        # and its number stands at its end, on the other side.
        assert before["bar"]["left"] == pytest.approx(before["content"]["left"], abs=SUBPIXEL)
        assert bar["right"] == pytest.approx(content["right"], abs=SUBPIXEL)
        assert after["length"] == pytest.approx(before["length"], abs=SUBPIXEL)
        assert after["value_box"]["right"] <= bar["left"]
        assert before["value_box"]["left"] >= before["bar"]["right"]
        if layout(rtl, after["chart"]) == "beside":
            assert after["label"]["left"] >= bar["right"]
    for chart in ("chart-years", "chart-months"):
        periods = [bar for bar in rtl["bars"] if bar["chart"] == chart]
        if periods[0]["columns"]:  # the oldest on the right
            lefts = [bar["bar"]["left"] for bar in periods]
            assert lefts == sorted(lefts, reverse=True)
    assert is_map(rtl["tiles"])
    assert relative(rtl["tiles"]) == relative(ltr["tiles"])


def relative(tiles: dict[str, dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Where each tile stands beside Schleswig-Holstein's (the map itself may move to the
    page's start edge)."""
    north = tiles["sh"]
    return {
        code: (round(tile["left"] - north["left"], 1), round(tile["top"] - north["top"], 1))
        for code, tile in tiles.items()
    }


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["320px", "1280px"])
def test_the_charts_show_at_tor_browsers_safest_level(
    new_page: PageFactory,
    statistics_server: tuple[str, Staff],  # noqa: F811
    viewport: dict[str, int],
) -> None:
    """At "Safest" there is no JavaScript, no SVG and no downloadable font. The charts are HTML
    and CSS, so they show as they do elsewhere. (axe needs scripts: test_statistics_pages.)"""
    base_url, _researcher = statistics_server
    page = new_page(viewport=viewport, java_script_enabled=False)
    requested, blocked = at_safest_level(page)
    response = page.goto(f"{base_url}/de/statistics")
    assert response is not None
    assert response.status == 200
    measured = measure(page)

    assert measured["shown"] == CHARTS
    assert page.locator("svg").count() == 0
    pictures = page.locator("[role=img]")
    assert pictures.count() == 4
    for index in range(4):
        box = pictures.nth(index).bounding_box()
        assert box is not None
        assert box["width"] > 0
        assert box["height"] > 0
    assert measured["bars"]
    for bar in measured["bars"]:
        assert (bar["length"] > 0) == (bar["value"] > 0), bar
    assert measured["problems"] == []
    check_lengths(measured["bars"])
    assert font_requests(requested) == []
    # Nothing but the site's icon was an SVG.
    assert all(url.endswith("/static/favicon.svg") for url in blocked), blocked
