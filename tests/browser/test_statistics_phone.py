"""The public charts at 320 px and at 1280 px: every text of every chart shown is drawn at 12 px
or more, no two texts overlap, none is cut off, and the page does not scroll sideways.

Each chart comes in a phone and a wide layout (app/research/charts.py), and CSS shows one of
them; what is measured here is what Chromium draws, not the SVG's numbers.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.conftest import DESKTOP, PHONE, PageFactory
from tests.browser.test_statistics_pages import (  # noqa: F401  (a fixture, used by name)
    no_sideways_scrolling,
    statistics_server,
)
from tests.staff import Staff

pytestmark = pytest.mark.browser

# For every chart that is displayed: its rendered text sizes, text boxes that overlap, and
# text boxes that leave the chart. Lines of one multi-line label are one text.
MEASURE_CHARTS_JS = """
() => {
  const problems = [];
  const shown = [...document.querySelectorAll("svg.chart")]
    .filter((svg) => svg.getBoundingClientRect().width > 0);
  let smallest = Infinity;
  for (const svg of shown) {
    const name = svg.querySelector("title").id;
    const chart = svg.getBoundingClientRect();
    const scale = chart.width / svg.viewBox.baseVal.width;
    const boxes = [];
    for (const text of svg.querySelectorAll("text")) {
      const size = parseFloat(getComputedStyle(text).fontSize) * scale;
      smallest = Math.min(smallest, size);
      if (size < 12) problems.push(`${name}: "${text.textContent}" at ${size.toFixed(1)}px`);
      const box = text.getBoundingClientRect();
      const inside = box.left >= chart.left - 0.5 && box.right <= chart.right + 0.5
        && box.top >= chart.top - 0.5 && box.bottom <= chart.bottom + 0.5;
      if (!inside) problems.push(`${name}: "${text.textContent}" is cut off`);
      for (const [other, otherBox] of boxes) {
        const across = Math.min(box.right, otherBox.right) - Math.max(box.left, otherBox.left);
        const down = Math.min(box.bottom, otherBox.bottom) - Math.max(box.top, otherBox.top);
        if (across > 0.5 && down > 0.5) {
          problems.push(`${name}: "${text.textContent}" overlaps "${other}"`);
        }
      }
      boxes.push([text.textContent, box]);
    }
  }
  return {shown: shown.map((svg) => svg.querySelector("title").id), smallest, problems};
}
"""

CHARTS = ("chart-years", "chart-months", "chart-types", "chart-lands")
THIS_YEAR = dt.date.today().year


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("year", [None, THIS_YEAR - 1])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["320px", "1280px"])
def test_every_chart_text_is_readable_and_in_its_place(
    new_page: PageFactory,
    statistics_server: tuple[str, Staff],  # noqa: F811
    lang: str,
    year: int | None,
    viewport: dict[str, int],
) -> None:
    base_url, _researcher = statistics_server
    page = new_page(viewport=viewport)
    query = f"?year={year}" if year else ""
    response = page.goto(f"{base_url}/{lang}/statistics{query}")
    assert response is not None
    assert response.status == 200
    measured = page.evaluate(MEASURE_CHARTS_JS)
    # One layout of each chart is shown: the phone's on a phone, the wide one on a desktop.
    phone = viewport["width"] < 640
    expected = [f"{chart}-phone-title" if phone else f"{chart}-title" for chart in CHARTS]
    assert measured["shown"] == expected
    assert measured["problems"] == []
    assert measured["smallest"] >= 12
    assert no_sideways_scrolling(page) == []


def test_the_phone_layout_keeps_bar_labels_whole_and_above_their_bars(
    new_page: PageFactory,
    statistics_server: tuple[str, Staff],  # noqa: F811
) -> None:
    base_url, _researcher = statistics_server
    page = new_page(viewport=PHONE, java_script_enabled=False)
    page.goto(f"{base_url}/de/statistics")
    bars = page.locator("#chart-types-phone-title").locator("xpath=..")
    assert "chart-stacked" in (bars.get_attribute("class") or "")
    # Every type's label is drawn without "…": three lines of the full width are enough.
    labels = bars.locator("g.chart-bar > text:first-of-type")
    assert labels.count() > 10
    for text in labels.all_text_contents():
        assert "…" not in text
