"""The public statistics page: current, protected, readable without JavaScript."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient

from app.codebook import current_codebook
from app.extensions import db
from app.research.disclosure import statistics_perturbation
from tests.integration.test_statistics import many
from tests.pages import is_on_site, linked_urls, visible_text


@dataclass
class HtmlTable:
    """A table as a page shows it: its caption, column headers and rows by their headers."""

    caption: str
    columns: list[str] = field(default_factory=list)  # the headers after the first
    rows: dict[str, list[str]] = field(default_factory=dict)  # tbody and tfoot alike

    def value(self, row: str, column: str | None = None) -> int:
        """The number in ``row`` under ``column`` (None: the last column, the row's total).
        Fails for anything but a plain number (a withheld "x" included)."""
        text = self.rows[row][-1 if column is None else self.columns.index(column)]
        assert text.isdigit(), f"{self.caption}: {row} / {column} shows {text!r}"
        return int(text)


class _TableReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[HtmlTable] = []
        self._in_caption = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._header_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(HtmlTable(caption=""))
        elif tag == "caption":
            self._in_caption = True
        elif tag == "thead":
            self._header_row = True
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag == "thead":
            self._header_row = False
        elif tag in ("th", "td") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table, (first, *rest) = self.tables[-1], self._row
            if self._header_row:
                table.columns = rest
            else:
                table.rows[first] = rest
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.tables[-1].caption += data
        elif self._cell is not None:
            self._cell.append(data)


@dataclass
class HtmlChart:
    """A chart as a page draws it: its picture's name, and per bar or tile (by key) the
    classes it carries and the number it shows."""

    chart_id: str
    classes: list[str]
    name: str = ""
    pictures: int = 0
    items: dict[str, tuple[list[str], str]] = field(default_factory=dict)

    def length(self, key: str) -> int:
        """The bar's length class, in percent of the chart's scale."""
        (length,) = [int(c[4:]) for c in self.items[key][0] if c.startswith("len-")]
        return length

    def shown(self, key: str) -> int:
        return int(self.items[key][1])


class _ChartReader(HTMLParser):
    """Each <figure class="chart">: its role="img" element, its bars (the element with class
    chart-bar inside an element with a data-key) and tiles (a data-key on the tile itself)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.charts: list[HtmlChart] = []
        self._key: str | None = None
        self._classes: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "").split()
        if tag == "figure" and "chart" in classes:
            self.charts.append(HtmlChart(attributes["id"], classes))
        elif not self.charts:
            return
        chart = self.charts[-1]
        if attributes.get("role") == "img":
            chart.pictures += 1
            chart.name = attributes.get("aria-label", "")
        if "data-key" in attributes:
            self._key, self._classes = attributes["data-key"], classes
        if "chart-bar" in classes:
            self._classes = classes
        if self._key is not None and ("chart-value" in classes or "tile" in classes):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._text is not None and self._key is not None:
            if "".join(self._text).strip():
                self.charts[-1].items[self._key] = (self._classes, "".join(self._text).split()[-1])
                self._key, self._text = None, None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def html_charts(html: str) -> dict[str, HtmlChart]:
    """Every chart of a page by its id."""
    reader = _ChartReader()
    reader.feed(html)
    return {chart.chart_id: chart for chart in reader.charts}


def nice_scale(largest: int) -> int:
    """The chart's scale, from its definition: the first multiple of the smallest 1, 2 or
    5 × 10^n step that reaches ``largest`` in at most five steps."""
    if largest == 0:
        return 1
    steps = sorted(m * 10**n for n in range(len(str(largest)) + 1) for m in (1, 2, 5))
    step = next(step for step in steps if 5 * step >= largest)
    return step * -(-largest // step)


def expected_length(value: int, scale: int) -> int:
    return 0 if value == 0 else max(1, int(100 * value / scale + 0.5))


def html_tables(html: str) -> dict[str, HtmlTable]:
    """Every table of a page by its caption."""
    reader = _TableReader()
    reader.feed(html)
    tables = {" ".join(table.caption.split()): table for table in reader.tables}
    assert len(tables) == len(reader.tables), "two tables share a caption"
    return tables


def published_keys(app: Flask, *groups: Sequence[int]) -> int:
    """What the app's perturbation publishes for incidents with these record keys."""
    keys = [key for group in groups for key in group]
    return statistics_perturbation(app).publish_cell(len(keys), sum(keys))


@pytest.fixture
def record_keys(db_app: Flask) -> dict[str, list[int]]:
    """The counted incidents' record keys, by group."""
    with db_app.test_request_context():
        this_month = dt.date.today().replace(day=1)
        groups = {
            "nw": many(40, day=dt.date(this_month.year - 1, 6, 3), coded_land="nw"),
            "be": many(12, day=this_month, coded_land="be", types=("threat",)),
            "hb": many(3, day=this_month, coded_land="hb"),  # published as 0 or 5, never as 3
        }
        db.session.commit()
        return {name: [incident.record_key for incident in made] for name, made in groups.items()}


@pytest.fixture
def counted(db_app: Flask, record_keys: dict[str, list[int]]) -> FlaskClient:
    return db_app.test_client()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_page_shows_protected_charts_and_tables(
    db_app: Flask, counted: FlaskClient, record_keys: dict[str, list[int]], lang: str
) -> None:
    response = counted.get(f"/{lang}/statistics")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}" dir="ltr">' in html
    assert html.count("<h1") == 1
    # The charts need no script; the only one is the quick exit's (base.html).
    assert html.count("<script") == html.count('<script src="/static/js/quick-exit.js"') == 1
    # One picture per chart, of HTML and CSS: no SVG (Tor Browser's "Safest" turns it off),
    # and no style attribute (the CSP has style-src 'self').
    assert "<svg" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE)
    assert html.count('role="img"') == 4
    charts = html_charts(html)
    assert list(charts) == ["chart-years", "chart-months", "chart-types", "chart-lands"]
    for chart in charts.values():
        assert chart.pictures == 1
    assert html.count("<table") == 4
    # Every number is perturbed by its own incidents' record keys; nothing is withheld.
    nw, be, hb = record_keys["nw"], record_keys["be"], record_keys["hb"]
    years, months, types, lands = html_tables(html).values()
    today = dt.date.today()
    this_year = today.year
    # The data begin in June of last year, and this year is counted up to today.
    day = {"de": "d. MMMM y", "en": "d MMMM y"}[lang]
    since, until = {"de": ("ab", "bis"), "en": ("from", "until")}[lang]
    first_day = format_date(dt.date(this_year - 1, 6, 1), day, locale=lang)
    last_year = f"{this_year - 1} ({since} {first_day})"
    now = f"{this_year} ({until} {format_date(today, day, locale=lang)})"
    assert list(years.rows)[:2] == [last_year, now]
    assert years.value(last_year) == published_keys(db_app, nw)
    assert years.value(now) == published_keys(db_app, be, hb)
    this_month = f"{today.month:02d}/{this_year} ({until} {format_date(today, day, locale=lang)})"
    assert list(months.rows)[-1] == this_month
    assert all("(" not in row for row in list(months.rows)[:-1])
    everything = published_keys(db_app, nw, be, hb)
    for table in (years, types, lands):  # all years: the same incidents, the same total
        assert table.value(list(table.rows)[-1]) == everything
    assert abs(everything - 55) <= statistics_perturbation(db_app).parameters.max_deviation  # type: ignore[union-attr]
    assert str(everything) in visible_text(html)
    assert lands.value("Bremen") == published_keys(db_app, hb)  # same name in both languages
    assert lands.value("Bremen") in statistics_perturbation(db_app).distribution(3)
    assert lands.value("Hamburg") == 0
    with db_app.app_context():
        kinds = current_codebook().question("incident_types")
        threat, abuse = (kinds.answer(code).label(lang) for code in ("threat", "verbal_abuse"))
    assert types.value(threat) == published_keys(db_app, be)
    assert types.value(abuse) == published_keys(db_app, nw, hb)
    with db_app.app_context():
        lands_question = current_codebook().question("land")
        for code in lands_question.codes:
            name = lands_question.answer(code).label(lang)
            assert charts["chart-lands"].shown(code) == lands.value(name), code
    assert len(charts["chart-lands"].items) == 16
    numbers = {int(n) for n in re.findall(r"<td>(\d+)</td>", html)}
    assert not numbers & {1, 2, 3, 4}
    # Every bar and tile shows the table's number; bars are as long as their share of a
    # round scale, and a count is never drawn as no bar.
    for chart, table in zip(charts.values(), (years, months, types), strict=False):
        rows = list(table.rows)[: len(chart.items)]  # the total is not drawn
        values = [table.value(row) for row in rows]
        assert [chart.shown(key) for key in chart.items] == values, chart.chart_id
        scale = nice_scale(max(values))
        for key, value in zip(chart.items, values, strict=True):
            assert chart.length(key) == expected_length(value, scale), (chart.chart_id, key)
    year_lengths = [charts["chart-years"].length(key) for key in charts["chart-years"].items]
    assert year_lengths[0] > year_lengths[1] > 0  # about 40 last year, about 15 this year
    assert "chart-columns" in charts["chart-years"].classes
    assert "chart-columns" not in charts["chart-types"].classes
    assert charts["chart-types"].length("assault") == 0  # nothing of the kind
    assert charts["chart-years"].name.startswith(
        {"de": "Bestätigte Vorfälle pro Jahr. ", "en": "Confirmed incidents per year. "}[lang]
    )
    assert "<abbr" not in html
    # Off the site only the quick exit, which the person follows by choice.
    offsite = [url for url in linked_urls(html) if not is_on_site(url)]
    assert offsite == [db_app.config["QUICK_EXIT_URL"]]
    assert not re.search(r"https?://", html.replace(offsite[0], ""))


def test_the_page_says_that_every_number_is_perturbed(counted: FlaskClient) -> None:
    text = visible_text(counted.get("/de/statistics").get_data(as_text=True))
    assert "ist jede Zahl leicht verändert" in text
    assert "nie ist eine Zahl von 1 bis 4 zu sehen" in text
    assert "Summen müssen nicht genau zu ihren Teilen passen" in text
    assert "mit x markiert" not in text
    assert "fehlen ganz" not in text  # no year is left out any more


def test_a_year_narrows_the_splits(
    db_app: Flask, counted: FlaskClient, record_keys: dict[str, list[int]]
) -> None:
    last_year = str(dt.date.today().year - 1)
    html = counted.get(f"/de/statistics?year={last_year}").get_data(as_text=True)
    first_day = format_date(dt.date(int(last_year), 6, 1), "d. MMMM y", locale="de")
    assert f"Nach Bundesland ({last_year}, ab {first_day})" in html
    lands = html_tables(html)[f"Vorfälle nach Bundesland, {last_year}, ab {first_day}"]
    assert lands.value("Nordrhein-Westfalen") == published_keys(db_app, record_keys["nw"])
    assert lands.value("Berlin") == 0  # Berlin's are this year's
    assert lands.value("Insgesamt") == lands.value("Nordrhein-Westfalen")  # the same incidents
    for year, status in (("1900", 400), ("0000", 400), ("9999", 400), ("abc", 400),
                         ("_total", 400), ("2015", 404)):  # fmt: skip
        unknown = counted.get(f"/de/statistics?year={year}")
        assert unknown.status_code == status, year
        html = unknown.get_data(as_text=True)
        assert "alle Jahre" in html
        assert 'role="alert"' in html
    assert "„year“ ist ein Jahr von 1990 bis 2099" in counted.get(
        "/de/statistics?year=1900"
    ).get_data(as_text=True)
    assert counted.get("/de/statistics?year=").status_code == 200


def test_an_empty_database_shows_zeros(db_client: FlaskClient) -> None:
    response = db_client.get("/en/statistics")
    assert response.status_code == 200
    tables = html_tables(response.get_data(as_text=True))
    assert len(tables) == 4
    for table in tables.values():
        assert {text for cells in table.rows.values() for text in cells} == {"0"}
