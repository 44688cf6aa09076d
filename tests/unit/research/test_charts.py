"""The rules of the public charts (app/research/charts), their macros
(templates/pages/_charts.html) and the classes they rely on (static/css/site.css).

Colour contrast is checked with the WCAG formula for every text against what lies behind it,
and the colours against those the stylesheet really uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from app.research.charts import (
    BAR,
    COLUMNS_FROM_REM,
    INK,
    LANDER_TILES,
    MAX_COLUMNS,
    MAX_DIGITS,
    MAX_TICK_INTERVALS,
    MUTED,
    PAPER,
    PARTIAL_MARK,
    SHADES,
    Bar,
    SeriesChart,
    TileMap,
    bar_chart,
    bar_length,
    column_chart,
    land_tile_grid,
)
from tests.unit.codebook.test_codebook import LAENDER

LAND_NAMES = LAENDER  # the codebook test's list of the 16 Länder
LAND_CODES = list(LAND_NAMES)
NASTY = '<script>&"'
PROJECT = Path(__file__).resolve().parents[3]
SITE_CSS = PROJECT / "static" / "css" / "site.css"
CHART_MACROS = PROJECT / "templates" / "pages" / "_charts.html"

SERIES = [
    Bar("verbal_abuse", "Beleidigung", 123),
    Bar("physical_attack", "Körperlicher Angriff", 1),
    Bar("damage", "Sachbeschädigung", 0),
    Bar("discrimination", "Diskriminierung", 17),
]


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def is_nice(step: int) -> bool:
    """1, 2 or 5 × 10^n."""
    text = str(step)
    return text[0] in "125" and set(text[1:]) <= {"0"}


def check_scale(chart: SeriesChart, largest: int) -> None:
    """The scale is a few nice steps, at least the largest count, and not far above it."""
    if largest == 0:
        assert chart.scale == 1
        return
    assert chart.scale >= largest
    intervals = [n for n in range(1, MAX_TICK_INTERVALS + 1) if chart.scale % n == 0]
    steps = [chart.scale // n for n in intervals if is_nice(chart.scale // n)]
    assert steps, chart.scale
    # The smallest such step that reaches the largest count in at most five: no room wasted.
    step = min(steps)
    assert chart.scale - largest < step


# --- Bars and their lengths -----------------------------------------------------------------


def test_a_series_draws_one_bar_per_category_in_order() -> None:
    chart = bar_chart(SERIES)

    assert [bar.key for bar in chart.bars] == [bar.key for bar in SERIES]
    assert [bar.label for bar in chart.bars] == [bar.label for bar in SERIES]
    assert [bar.value for bar in chart.bars] == [123, 1, 0, 17]
    assert chart.scale == 150
    # 123/150 = 82 %, 1/150 = 0.67 % drawn as 1 %, 0 as no bar, 17/150 = 11.3 %.
    assert [bar.length for bar in chart.bars] == [82, 1, 0, 11]
    assert [bar.tooltip for bar in chart.bars] == [
        "Beleidigung: 123",
        "Körperlicher Angriff: 1",
        "Sachbeschädigung: 0",
        "Diskriminierung: 17",
    ]
    assert chart.digits == 3
    assert not chart.columns


@pytest.mark.parametrize(
    ("largest", "scale"),
    [
        (1, 1),
        (3, 3),
        (5, 5),
        (7, 8),
        (10, 10),
        (12, 15),
        (99, 100),
        (123, 150),
        (1000, 1000),
        (1001, 1500),
        (12345, 15000),
    ],
)
def test_the_scale_is_the_first_multiple_of_a_nice_step_at_the_largest(
    largest: int, scale: int
) -> None:
    for draw in (bar_chart, column_chart):
        chart = draw([Bar("a", "A", largest), Bar("b", "B", 0)])
        assert chart.scale == scale
        check_scale(chart, largest)
        assert chart.bars[0].length == round(100 * largest / scale)


@pytest.mark.parametrize("bars", [[], [Bar("a", "A", 0)], [Bar("a", "A", 0), Bar("b", "B", 0)]])
def test_empty_and_all_zero_series_have_no_bars_of_any_length(bars: list[Bar]) -> None:
    for draw in (bar_chart, column_chart):
        chart = draw(bars)
        assert chart.scale == 1
        assert [bar.length for bar in chart.bars] == [0] * len(bars)
        assert [bar.value for bar in chart.bars] == [0] * len(bars)
        assert chart.digits == 1


@pytest.mark.parametrize(
    ("value", "scale", "length"),
    [
        (0, 1, 0),
        (0, 10**9, 0),
        (1, 1, 100),
        (1, 10**6, 1),  # 0.0001 % is not nothing
        (1, 200, 1),  # 0.5 % rounds half up
        (3, 200, 2),  # 1.5 %
        (5, 200, 3),  # 2.5 %
        (1, 201, 1),
        (199, 200, 100),  # 99.5 %
        (397, 400, 99),  # 99.25 %
        (50, 100, 50),
        (10**40, 10**40, 100),
        (10**40 - 1, 10**40, 100),
    ],
)
def test_a_length_is_a_whole_percent_and_never_0_for_a_count(
    value: int, scale: int, length: int
) -> None:
    assert bar_length(value, scale) == length


@pytest.mark.parametrize(("value", "scale"), [(-1, 10), (11, 10), (0, 0), (1, 0), (0, -5)])
def test_a_length_outside_its_scale_is_refused(value: int, scale: int) -> None:
    with pytest.raises(ValueError, match="scale"):
        bar_length(value, scale)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**30), max_size=30))
@example([0, 1, 10**6])
@example([1, 1, 1])
@example([10**25 + 1])  # more digits than a float holds: the scale must still reach it
@example([2**53 + 1, 1])
def test_bar_lengths_follow_the_values(values: list[int]) -> None:
    bars = [Bar(f"k{i}", f"Kategorie {i}", value) for i, value in enumerate(values)]
    for draw in (bar_chart, column_chart):
        chart = draw(bars)
        check_scale(chart, max(values, default=0))
        for drawn, bar in zip(chart.bars, bars, strict=True):
            assert 0 <= drawn.length <= 100
            assert (drawn.length == 0) == (bar.value == 0)
            # Within half a percent of the exact share, or the least visible bar.
            exact = 100 * bar.value / chart.scale
            assert abs(drawn.length - exact) <= 0.5 or (drawn.length == 1 and exact < 1)
            assert drawn.tooltip == f"{bar.label}: {bar.value}"
        for one in chart.bars:
            for other in chart.bars:
                if one.value < other.value:
                    assert one.length <= other.length
                if one.value == other.value:
                    assert one.length == other.length
        if values and max(values) > 0:  # the largest bar fills at least half the scale
            assert max(bar.length for bar in chart.bars) >= 50
        assert chart.digits == min(len(str(max(values, default=0))), MAX_DIGITS)


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        bar_chart([Bar("a", "A", -1)])
    with pytest.raises(ValueError, match="negative"):
        column_chart([Bar("a", "A", 3), Bar("b", "B", -1)])
    with pytest.raises(ValueError, match="negative"):
        land_tile_grid({"by": -1}, {})


def test_a_partial_period_is_marked_on_the_chart_and_named_in_full_in_its_tooltip() -> None:
    bars = [Bar("2025", "2025", 40), Bar("2026", "2026", 30, note="bis 1. Dezember 2026")]
    for draw in (column_chart, bar_chart):
        whole, partial = draw(bars).bars
        assert partial.label == f"2026{PARTIAL_MARK}"
        assert partial.tooltip == "2026 (bis 1. Dezember 2026): 30"
        assert whole.label == "2025"
        assert whole.tooltip == "2025: 40"


def months(count: int, value: int = 80) -> list[Bar]:
    return [Bar(f"m{n}", f"{n % 12 + 1:02d}/2026", value) for n in range(count)]


def test_time_series_stand_as_columns_up_to_the_most_that_fit() -> None:
    years = [Bar(str(year), str(year), 700) for year in range(2023, 2027)]

    assert column_chart(years).columns
    assert column_chart(months(MAX_COLUMNS)).columns
    assert not column_chart(months(MAX_COLUMNS + 1)).columns  # bars on every screen
    assert not bar_chart(years).columns  # categories are always bars


def test_few_columns_stand_upright_and_many_are_written_sideways() -> None:
    years = [Bar(str(year), str(year), 700, "" if year < 2026 else "bis heute") for year in
             range(2023, 2027)]  # fmt: skip

    assert column_chart(years).upright
    assert not column_chart(months(24)).upright
    assert not column_chart(months(12)).upright  # "03/2026" twelve times side by side
    # Few columns with long numbers: the numbers decide.
    assert column_chart([Bar("2026", "2026", 12)] * 3).upright
    assert not column_chart([Bar("2026", "2026", 10**16)] * 3).upright


# --- The tile map -----------------------------------------------------------------------------


def tiles_by_code(grid: TileMap) -> dict[str, tuple[int, int, int, str, str]]:
    """code -> (column, row, shade, label, value shown)."""
    return {t.code: (t.column, t.row, t.shade, t.label, str(t.value)) for t in grid.tiles}


def test_the_tile_grid_has_sixteen_tiles_in_distinct_places() -> None:
    values = {code: 10 * index for index, code in enumerate(LAND_CODES)}
    grid = land_tile_grid(values, LAND_NAMES)

    assert sorted(LANDER_TILES) == sorted(LAND_CODES)
    assert [tile.code for tile in grid.tiles] == list(LANDER_TILES)  # reading order
    places = {(tile.column, tile.row) for tile in grid.tiles}
    assert len(places) == 16
    assert all(1 <= column <= 5 and 1 <= row <= 5 for column, row in places)
    rows = [tile.row for tile in grid.tiles]
    assert rows == sorted(rows)
    for tile in grid.tiles:
        assert tile.label == tile.code.upper()
        assert tile.value == values[tile.code]
        assert tile.tooltip == f"{LAND_NAMES[tile.code]}: {values[tile.code]}"
        assert (tile.column, tile.row) == tuple(n + 1 for n in LANDER_TILES[tile.code])


def test_the_layout_keeps_north_up_and_west_left() -> None:
    column = {code: place[0] for code, place in LANDER_TILES.items()}
    row = {code: place[1] for code, place in LANDER_TILES.items()}

    assert row["sh"] < row["hh"] < row["ni"] < row["he"] < row["bw"]
    assert row["mv"] < row["be"] < row["sn"]
    assert column["nw"] < column["ni"] < column["st"] < column["bb"]
    assert column["sl"] < column["bw"] < column["by"]
    assert column["rp"] < column["he"] < column["th"] < column["sn"]
    assert all(0 <= c <= 4 and 0 <= r <= 4 for c, r in LANDER_TILES.values())


def test_tiles_are_shaded_by_count_with_a_key() -> None:
    grid = land_tile_grid({"nw": 210, "by": 95, "bw": 120, "mv": 7, "sl": 0, "hb": 1}, LAND_NAMES)
    shade = {tile.code: tile.shade for tile in grid.tiles}

    assert shade["th"] == shade["sh"] == shade["sl"] == 0  # missing codes count 0
    assert len({shade["th"], shade["mv"], shade["bw"], shade["nw"]}) == 4
    assert shade["mv"] == shade["by"] == shade["hb"]  # 1, 7 and 95 fall into one range, 1–100
    assert shade["nw"] == len(SHADES) - 1  # the top range is always the darkest
    assert [(entry.shade, entry.text) for entry in grid.key] == [
        (0, "0"),
        (shade["hb"], "1–100"),
        (shade["bw"], "101–200"),
        (shade["nw"], "201–300"),
    ]
    assert tiles_by_code(grid)["sl"][2:] == (0, "SL", "0")


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({}, ["0"]),
        ({"by": 1}, ["0", "1"]),
        ({"by": 4, "he": 2}, ["0", "1", "2", "3", "4"]),
        ({"by": 12345}, ["0", "1–5000", "5001–10000", "10001–15000"]),
    ],
)
def test_the_key_lists_only_the_shades_in_use(values: dict[str, int], key: list[str]) -> None:
    grid = land_tile_grid(dict(values), {})

    assert [entry.text for entry in grid.key] == key
    used = {tile.shade for tile in grid.tiles}
    assert used <= {entry.shade for entry in grid.key}
    assert [entry.shade for entry in grid.key] == sorted({entry.shade for entry in grid.key})


def test_missing_names_show_the_code() -> None:
    grid = land_tile_grid({"by": 3}, {"be": NASTY})
    tooltip = {tile.code: tile.tooltip for tile in grid.tiles}

    assert tooltip["be"] == f"{NASTY}: 0"  # escaped by the template, not here
    assert tooltip["bw"] == "BW: 0"
    assert tooltip["by"] == "BY: 3"


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(LAND_CODES), st.integers(min_value=0, max_value=10**24)))
def test_every_tile_shows_its_count_and_more_is_never_lighter(counts: dict[str, int]) -> None:
    grid = land_tile_grid(counts, {})
    shade = {tile.code: tile.shade for tile in grid.tiles}

    for tile in grid.tiles:
        assert tile.value == counts.get(tile.code, 0)
        assert 0 <= tile.shade < len(SHADES)
        assert (tile.shade == 0) == (tile.value == 0)  # the lightest shade is 0's alone
    for one in LAND_CODES:
        for other in LAND_CODES:
            if counts.get(one, 0) < counts.get(other, 0):
                assert shade[one] <= shade[other]
    if any(counts.values()):
        assert max(shade.values()) == len(SHADES) - 1


@pytest.mark.parametrize(
    ("values", "labels"), [({"xx": 1}, {}), ({"BY": 1}, {}), ({}, {"de": "Deutschland"})]
)
def test_an_unknown_land_code_is_refused(values: dict[str, int], labels: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="unknown Land"):
        land_tile_grid(dict(values), labels)


# --- Colours ----------------------------------------------------------------------------------


def test_text_bars_and_tiles_have_enough_contrast() -> None:
    assert contrast(INK, PAPER) >= 4.5  # labels and numbers on the page
    assert contrast(BAR, PAPER) >= 3  # a bar against the page
    assert contrast(MUTED, PAPER) >= 3  # the axis and the edges of tiles and swatches
    for shade, ink in SHADES:
        assert contrast(ink, shade) >= 4.5  # a tile's code and number on its shade
    # Shades differ from their neighbours in lightness, light to dark.
    lightness = [luminance(shade) for shade, _ink in SHADES]
    assert lightness == sorted(lightness, reverse=True)


# --- The stylesheet ---------------------------------------------------------------------------


def css_rules() -> dict[str, str]:
    """Every rule of site.css as selector -> declarations (comments dropped; a selector list
    and nested at-rules give each of their selectors the same declarations)."""
    text = re.sub(r"/\*.*?\*/", "", SITE_CSS.read_text(encoding="utf-8"), flags=re.DOTALL)
    rules: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        for selector in selectors.split(","):
            name = " ".join(selector.split())
            rules[name] = rules.get(name, "") + body
    return rules


def css_classes() -> set[str]:
    """Every class some selector of site.css names."""
    return {
        name
        for selector in css_rules()
        for name in re.findall(r"\.(-?[A-Za-z_][A-Za-z0-9_-]*)", selector)
    }


def declaration(rules: dict[str, str], selector: str, prop: str) -> str:
    """The first value of ``prop`` for ``selector`` (later ones are for forced colours)."""
    values = re.findall(rf"(?:^|;)\s*{re.escape(prop)}\s*:\s*([^;]+)", rules[selector])
    assert values, (selector, prop)
    return values[0].strip()


def test_the_stylesheet_has_a_length_class_for_every_percent() -> None:
    rules = css_rules()
    for percent in range(101):
        assert declaration(rules, f".len-{percent}", "--len") == f"{percent}%"
    assert ".len-101" not in rules
    for digits in range(1, MAX_DIGITS + 1):
        assert declaration(rules, f".digits-{digits}", "--digits") == str(digits)
    for line in range(1, 6):
        assert declaration(rules, f".tile-col-{line}", "grid-column") == str(line)
        assert declaration(rules, f".tile-row-{line}", "grid-row") == str(line)


def test_the_stylesheet_uses_the_colours_whose_contrast_is_checked() -> None:
    rules = css_rules()
    assert declaration(rules, ".chart-bar", "background-color") == BAR
    for index, (shade, ink) in enumerate(SHADES):
        assert declaration(rules, f".shade-{index}", "background-color") == shade
        assert declaration(rules, f".shade-{index}", "color") == ink
    for edged in (".tile", ".chart-swatch"):
        assert declaration(rules, edged, "border") == f"1px solid {MUTED}"
    assert declaration(rules, ".chart-track", "border-inline-start") == f"1px solid {MUTED}"


def test_the_charts_use_only_logical_properties() -> None:
    """In a right-to-left page the bars grow from the right without a rule of their own."""
    text = SITE_CSS.read_text(encoding="utf-8")
    start = text.index("/* Charts")
    section = re.sub(r"/\*.*?\*/", "", text[start : text.index("/* Statistics tables")], flags=re.S)
    physical = re.compile(
        r"(?<![\w-])(left|right|top|bottom|width|height|min-width|max-width|min-height|max-height"
        r"|(margin|padding|border)-(left|right|top|bottom)(-\w+)?)\s*:"
    )
    assert physical.findall(section) == []
    for shorthand in re.findall(r"(?<![\w-])(?:margin|padding|inset)\s*:\s*([^;]+);", section):
        assert len(set(shorthand.split())) == 1, shorthand  # one value: the same on every side
    assert re.search(r"\b(ltr|rtl)\b", section) is None
    # The container query sizes that charts.py counts with.
    assert f"@container chart (inline-size >= {COLUMNS_FROM_REM}rem)" in section


# --- The macros ---------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every start tag of a fragment, with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def elements(markup: Markup) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(str(markup))
    return parser.elements


def classes_of(markup: Markup) -> set[str]:
    return {name for _tag, attrs in elements(markup) for name in attrs.get("class", "").split()}


@pytest.fixture
def macros(app: Flask) -> Iterator[object]:
    with app.app_context():
        yield app.jinja_env.get_template("pages/_charts.html").module


def every_chart(macros: object) -> Iterator[Markup]:
    """Charts that between them use every class the macros can write: every length 0..100,
    every number of digits, columns upright and sideways, bars, every shade and place."""
    series = macros.series_chart  # type: ignore[attr-defined]
    percents = [Bar(f"p{n}", f"{n} %", n) for n in range(101)]  # scale 100: length = value
    yield series(bar_chart(percents), "c-percents", "Titel", "Beschreibung")
    for digits in range(1, MAX_DIGITS + 3):
        chart = column_chart([Bar("a", "A", 10 ** (digits - 1)), Bar("b", "B", 0)])
        yield series(chart, f"c-digits-{digits}", "Titel", "Beschreibung")
    yield series(column_chart(months(24)), "c-months", "Titel", "Beschreibung")
    yield series(column_chart(months(30)), "c-many", "Titel", "Beschreibung")
    yield series(column_chart([]), "c-empty", "Titel", "Beschreibung")
    tile_map = macros.tile_map  # type: ignore[attr-defined]
    values = {code: i * 40 // 15 for i, code in enumerate(LAND_CODES)}  # 0 and four ranges
    yield tile_map(land_tile_grid(values, LAND_NAMES), "c-tiles", "Titel", "Beschreibung")
    yield tile_map(land_tile_grid({}, {}), "c-no-tiles", "Titel", "Beschreibung")


def test_every_class_the_macros_write_is_in_the_stylesheet(macros: object) -> None:
    written: set[str] = set()
    for markup in every_chart(macros):
        written |= classes_of(markup)

    assert {f"len-{n}" for n in range(101)} <= written
    assert {f"digits-{n}" for n in range(1, MAX_DIGITS + 1)} <= written
    assert {f"shade-{n}" for n in range(len(SHADES))} <= written
    assert {"chart-columns", "chart-sideways"} <= written
    assert sorted(written - css_classes()) == []


def test_the_macros_write_classes_only_from_values_the_tests_cover() -> None:
    """A new value in a class attribute must be added to every_chart() above."""
    source = CHART_MACROS.read_text(encoding="utf-8")
    expressions = set()
    for attribute in re.findall(r'class="([^"]*)"', source):
        expressions |= {" ".join(e.split()) for e in re.findall(r"\{\{(.*?)\}\}", attribute)}
    assert expressions == {
        "chart.digits",
        "' chart-columns' if chart.columns else ''",
        "' chart-sideways' if not chart.upright else ''",
        "bar.length",
        "tile.column",
        "tile.row",
        "tile.shade",
        "entry.shade",
    }


def test_each_chart_is_one_named_picture_without_style_or_svg(macros: object) -> None:
    for markup in every_chart(macros):
        found = elements(markup)
        pictures = [attrs for _tag, attrs in found if attrs.get("role") == "img"]
        assert len(pictures) == 1
        assert pictures[0]["aria-label"] == "Titel. Beschreibung"
        assert found[0][0] == "figure"
        assert "chart" in found[0][1]["class"].split()
        assert all("style" not in attrs for _tag, attrs in found)
        assert {tag for tag, _attrs in found} <= {"figure", "div", "span", "b"}
        # Nothing refers to anything: no link, image, script or inline style.
        assert not re.search(r"<(svg|img|script|style|a)\b|href=|src=|url\(", str(markup))


def test_every_text_from_the_caller_is_escaped(macros: object) -> None:
    series = macros.series_chart  # type: ignore[attr-defined]
    tile_map = macros.tile_map  # type: ignore[attr-defined]
    charts = [
        series(bar_chart([Bar(NASTY, NASTY, 3, NASTY)]), NASTY, NASTY, NASTY),
        tile_map(land_tile_grid({"by": 3}, {"by": NASTY}), NASTY, NASTY, NASTY),
    ]
    for markup in charts:
        assert "<script" not in markup
        found = elements(markup)
        assert found[0][1]["id"] == NASTY
        picture = next(attrs for _tag, attrs in found if attrs.get("role") == "img")
        assert picture["aria-label"] == f"{NASTY}. {NASTY}"
    titles = [attrs.get("title") for _tag, attrs in elements(charts[0]) if "title" in attrs]
    assert titles == [f"{NASTY} ({NASTY}): 3"]
    keys = {attrs["data-key"] for _tag, attrs in elements(charts[0]) if "data-key" in attrs}
    assert keys == {NASTY}


def test_bars_carry_their_length_and_value(macros: object) -> None:
    markup = macros.series_chart(bar_chart(SERIES), "c", "T", "D")  # type: ignore[attr-defined]
    text = str(markup)
    items = re.findall(
        r'data-key="([^"]+)".*?class="chart-bar len-(\d+)"><span class="chart-value"><span>(\d+)<',
        text,
    )
    assert items == [
        ("verbal_abuse", "82", "123"),
        ("physical_attack", "1", "1"),
        ("damage", "0", "0"),
        ("discrimination", "11", "17"),
    ]
    assert 'class="chart chart-series digits-3"' in text


def test_the_map_is_never_mirrored_and_names_each_land(macros: object) -> None:
    grid = land_tile_grid({"nw": 1234567, "by": 0}, LAND_NAMES)
    markup = macros.tile_map(grid, "m", "T", "D")  # type: ignore[attr-defined]
    found = elements(markup)

    grids = [attrs for _tag, attrs in found if "tile-grid" in attrs.get("class", "")]
    assert [attrs.get("dir") for attrs in grids] == ["ltr"]
    tiles = {attrs["data-key"]: attrs for _tag, attrs in found if "data-key" in attrs}
    assert list(tiles) == list(LANDER_TILES)
    assert tiles["nw"]["class"] == "tile tile-col-1 tile-row-3 shade-4"
    assert tiles["nw"]["title"] == "Nordrhein-Westfalen: 1234567"
    assert '<b class="tile-label">NW</b> <span>1234567</span>' in markup
