"""Server-drawn SVG charts (app/research/charts): well-formed, accessible, CSP-safe, escaped.

Every chart is parsed as XML on its own, as a browser would read it inline in HTML. Colour
contrast is checked with the WCAG formula for every text against what lies behind it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from app.research.charts import (
    CHAR_WIDTH,
    INK,
    LANDER_TILES,
    MAX_TICK_INTERVALS,
    NARROW_WIDTH,
    PAPER,
    PARTIAL_MARK,
    SHADES,
    WIDTH,
    Bar,
    bar_chart,
    column_chart,
    land_tile_grid,
)
from tests.unit.codebook.test_codebook import LAENDER

LAND_NAMES = LAENDER  # the codebook test's list of the 16 Länder
LAND_CODES = list(LAND_NAMES)
NASTY = '<script>&"'

Chart = Callable[..., Markup]
COORDINATES = {"x", "y", "width", "height", "x1", "y1", "x2", "y2", "font-size", "stroke-width"}
# Everything a chart may be made of. Only <title>, <desc>, <text>, <tspan> and data-key carry
# text from the caller; no element or attribute can refer to anything (href, url(), xmlns).
ELEMENTS = {"svg", "title", "desc", "g", "rect", "line", "text", "tspan"}
ITEMS = {"chart-bar", "chart-column", "chart-tile"}  # the groups that carry a data-key
COLOUR = r"#[0-9a-f]{6}"
ATTRIBUTES = {
    "role": r"img",
    "viewBox": r"0 0 \d+(\.\d+)? \d+(\.\d+)?",
    "font-family": r"inherit",
    "fill": COLOUR,
    "stroke": COLOUR,
    "text-anchor": r"start|middle|end",
    "font-weight": r"700",
    **{name: r"-?\d+(\.\d+)?" for name in COORDINATES},  # no NaN or inf from a division
}


def draw(chart: Chart, bars: list[Bar], chart_id: str = "c") -> ET.Element:
    return parse(chart(bars, chart_id=chart_id, title="Titel", description="Beschreibung"))


def parse(markup: Markup) -> ET.Element:
    """The chart as an XML tree; it must be well-formed on its own, without a wrapper."""
    assert isinstance(markup, Markup)
    return ET.fromstring(str(markup))  # noqa: S314 - our own output, which is under test


def tile_markup(values: dict[str, int]) -> Markup:
    return land_tile_grid(
        values, LAND_NAMES, chart_id="map", title="Meldungen nach Land", description="Kachelkarte"
    )


def tiles(values: dict[str, int]) -> ET.Element:
    return parse(tile_markup(values))


def items(root: ET.Element, kind: str) -> dict[str, ET.Element]:
    """The groups of one kind (chart-bar, chart-column, chart-tile) by their key."""
    found = [g for g in root.iter("g") if g.get("class") == kind]
    by_key = {g.get("data-key", ""): g for g in found}
    assert len(by_key) == len(found)
    return by_key


def texts(element: ET.Element) -> list[str]:
    """The visible texts of an element (its <title> is a tooltip, not drawn)."""
    return ["".join(text.itertext()) for text in element.iter("text")]


def tooltip(element: ET.Element) -> str:
    title = element.find("title")
    assert title is not None
    return title.text or ""


def bar_width(group: ET.Element) -> float:
    rect = group.find("rect")
    return 0.0 if rect is None else float(rect.get("width", "0"))


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def check_picture(root: ET.Element, chart_id: str = "c") -> None:
    """What every chart must be: a named image with nothing the CSP or the tests forbid.

    The parsed elements and attributes are checked against what a chart may hold, never the
    raw markup: the caller's labels may say "href" or "http://" and are only text.
    """
    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
    assert root.get("width") == "100%"
    assert "chart" in root.get("class", "").split()
    first, second = root[0], root[1]
    assert (first.tag, first.get("id")) == ("title", f"{chart_id}-title")
    assert (second.tag, second.get("id")) == ("desc", f"{chart_id}-desc")
    ids = {"title": f"{chart_id}-title", "desc": f"{chart_id}-desc"}
    for element in root.iter():
        # A namespace (xmlns) would show as "{uri}name" in the tag or an attribute's name.
        assert element.tag in ELEMENTS, element.tag
        for name, value in element.attrib.items():
            if element is root and name in {"class", "aria-labelledby", "width"}:
                continue  # checked above
            if name == "class":
                assert element.tag == "g"
                assert value in {*ITEMS, "chart-key"}
            elif name == "id":
                assert value == ids.get(element.tag), (element.tag, value)
            elif name == "data-key":  # the caller's key, only text
                assert element.tag == "g"
                assert element.get("class") in ITEMS
            else:
                assert name in ATTRIBUTES, (element.tag, name)
                assert re.fullmatch(ATTRIBUTES[name], value), (element.tag, name, value)


def check_contrast(root: ET.Element) -> None:
    """Text on white reaches 4.5:1, and bars 3:1 against the white page."""
    for text in root.iter("text"):
        assert contrast(text.get("fill", ""), PAPER) >= 4.5
    for rect in root.iter("rect"):
        assert contrast(rect.get("fill", ""), PAPER) >= 3


SERIES = [
    Bar("verbal_abuse", "Beleidigung", 123),
    Bar("physical_attack", "Körperlicher Angriff", 1),
    Bar("damage", "Sachbeschädigung", 0),
    Bar("discrimination", "Diskriminierung", 17),
]


def kind_of(chart: Chart) -> str:
    return "chart-bar" if chart is bar_chart else "chart-column"


def value_axis(root: ET.Element) -> ET.Element:
    """The axis line the bars or columns start from: the last line of the chart."""
    return root.findall("line")[-1]


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_a_chart_is_a_named_picture_with_one_item_per_category(chart: Chart) -> None:
    root = draw(chart, SERIES)

    check_picture(root)
    check_contrast(root)
    assert root[0].text == "Titel"
    assert root[1].text == "Beschreibung"
    found = items(root, kind_of(chart))
    assert list(found) == [bar.key for bar in SERIES]
    for bar in SERIES:
        assert str(bar.value) in texts(found[bar.key])
        assert tooltip(found[bar.key]) == f"{bar.label}: {bar.value}"
        assert (found[bar.key].find("rect") is None) == (bar.value == 0)


def test_bars_show_label_bar_and_value_in_a_row() -> None:
    found = items(draw(bar_chart, SERIES), "chart-bar")
    group = found["verbal_abuse"]

    label, value = texts(group)
    assert (label, value) == ("Beleidigung", "123")
    rect = group.find("rect")
    assert rect is not None
    label_text, value_text = list(group.iter("text"))
    assert label_text.get("text-anchor") == "end"
    value_x = float(value_text.get("x", "0"))
    bar_end = float(rect.get("x", "0")) + float(rect.get("width", "0"))
    assert value_x > bar_end
    assert bar_width(group) > bar_width(found["discrimination"]) > 0


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_a_zero_has_no_bar_and_shows_0_at_the_axis_like_any_other_value(chart: Chart) -> None:
    root = draw(chart, SERIES)
    found = items(root, kind_of(chart))
    zero, one = found["damage"], found["physical_attack"]

    assert zero.find("rect") is None
    assert not zero.findall("line")  # no mark of its own either
    value = next(t for t in zero.iter("text") if t.text == "0")
    one_value = next(t for t in one.iter("text") if t.text == "1")
    assert value.get("fill") == one_value.get("fill") == INK
    assert tooltip(zero) == "Sachbeschädigung: 0"
    axis = value_axis(root)
    if chart is bar_chart:  # the 0 stands just right of the axis, where a bar would start
        assert float(value.get("x", "0")) == pytest.approx(float(axis.get("x1", "0")) + 6, abs=0.02)
    else:  # the 0 stands just above the axis, where a column would rise from
        assert float(value.get("y", "0")) == pytest.approx(float(axis.get("y1", "0")) - 6, abs=0.02)
        assert float(one_value.get("y", "0")) < float(value.get("y", "0"))


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_every_text_from_the_caller_is_escaped(chart: Chart) -> None:
    markup = chart([Bar(NASTY, NASTY, 3)], chart_id="c", title=NASTY, description=NASTY)

    assert "<script" not in markup
    root = parse(markup)
    check_picture(root)
    assert root[0].text == NASTY
    assert root[1].text == NASTY
    group = items(root, kind_of(chart))[NASTY]
    assert NASTY in texts(group)
    assert tooltip(group) == f"{NASTY}: 3"


def test_characters_xml_cannot_hold_are_dropped() -> None:
    root = draw(bar_chart, [Bar("k", "a\x00b\x1bc", 1)])

    assert texts(items(root, "chart-bar")["k"])[0] == "abc"


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
@pytest.mark.parametrize("bars", [[], [Bar("a", "A", 0)], [Bar("a", "A", 0), Bar("b", "B", 0)]])
def test_empty_and_all_zero_series_draw_an_empty_axis(chart: Chart, bars: list[Bar]) -> None:
    root = draw(chart, bars)

    check_picture(root)
    assert root.find("g/rect") is None
    found = items(root, kind_of(chart))
    assert len(found) == len(bars)
    for bar in bars:
        assert "0" in texts(found[bar.key])
    tick_labels = [t.text for t in root.findall("text")]
    assert tick_labels == ["0"]
    axis = value_axis(root)
    assert (axis.get("x1"), axis.get("y1")) != (axis.get("x2"), axis.get("y2"))


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [
        (1, ["0", "1"]),
        (3, ["0", "1", "2", "3"]),
        (7, ["0", "2", "4", "6", "8"]),
        (10, ["0", "2", "4", "6", "8", "10"]),
        (12, ["0", "5", "10", "15"]),
        (123, ["0", "50", "100", "150"]),
        (1000, ["0", "200", "400", "600", "800", "1000"]),
        (12345, ["0", "5000", "10000", "15000"]),
    ],
)
def test_value_axes_tick_at_nice_steps_from_0_to_at_least_the_largest(
    largest: int, ticks: list[str]
) -> None:
    bars = [Bar("a", "A", largest), Bar("b", "B", 0)]
    for chart in (bar_chart, column_chart):
        root = draw(chart, bars)
        assert [t.text for t in root.findall("text")] == ticks


def test_few_columns_each_have_their_label_and_value() -> None:
    years = [Bar(str(year), str(year), 10 * (year - 2018)) for year in range(2019, 2026)]
    found = items(draw(column_chart, years), "chart-column")

    for bar in years:
        assert texts(found[bar.key]) == [str(bar.value), bar.label]


def test_sixty_months_thin_the_labels_but_keep_every_value_in_a_tooltip() -> None:
    months = [
        Bar(
            f"{2021 + m // 12}-{m % 12 + 1:02}",
            f"{2021 + m // 12}-{m % 12 + 1:02}",
            0 if m % 7 == 3 else m * 11,
        )
        for m in range(60)
    ]
    root = draw(column_chart, months)

    check_picture(root)
    check_contrast(root)
    found = items(root, "chart-column")
    assert len(found) == 60
    labelled = [key for key, group in found.items() if key in texts(group)]
    assert labelled[0] == "2021-01"
    assert 2 <= len(labelled) <= 12
    for bar in months:
        assert tooltip(found[bar.key]) == f"{bar.label}: {bar.value}"
        assert (found[bar.key].find("rect") is None) == (bar.value == 0)
        # Values no longer fit above the columns: only the thinned labels are drawn.
        assert str(bar.value) not in texts(found[bar.key])
    # Nothing below the axis labels: the chart ends under them.
    lowest = max(float(t.get("y", "0")) for t in root.iter("text"))
    assert float(root.get("viewBox", "").split()[3]) - lowest < 15
    starts = [float(found[key].findall("text")[-1].get("x", "0")) for key in labelled]
    assert all(b - a >= 7 * 9 for a, b in zip(starts, starts[1:], strict=False))


def test_a_long_label_wraps_and_is_cut_but_the_tooltip_keeps_it() -> None:
    label = (
        "Beleidigung, Beschimpfung oder Bedrohung im öffentlichen Raum, im Internet und "
        "in der Nachbarschaft"
    )
    group = items(draw(bar_chart, [Bar("k", label, 5)]), "chart-bar")["k"]

    label_text = group.find("text")
    assert label_text is not None
    lines = [span.text or "" for span in label_text.iter("tspan")]
    assert len(lines) == 3
    assert lines[2].endswith("…")
    assert tooltip(group) == f"{label}: 5"


def test_a_word_longer_than_a_line_is_broken() -> None:
    label = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen"
    group = items(draw(bar_chart, [Bar("k", label, 5)]), "chart-bar")["k"]

    lines = [span.text or "" for span in group.iter("tspan")]
    assert len(lines) == 3
    assert "".join(lines) == label  # broken, nothing lost
    assert max(len(line) for line in lines) < len(label) / 2


def test_output_is_deterministic() -> None:
    for chart in (bar_chart, column_chart):
        assert chart(SERIES, chart_id="c", title="t", description="d") == (
            chart(list(SERIES), chart_id="c", title="t", description="d")
        )
    assert tile_markup({"by": 3, "he": 0}) == tile_markup({"he": 0, "by": 3})


@pytest.mark.parametrize("chart_id", ["", "1abc", "a b", 'a"b', "a)b"])
def test_a_chart_id_that_cannot_be_an_id_is_refused(chart_id: str) -> None:
    for chart in (bar_chart, column_chart):
        with pytest.raises(ValueError, match="chart_id"):
            draw(chart, SERIES, chart_id=chart_id)
    with pytest.raises(ValueError, match="chart_id"):
        land_tile_grid({}, {}, chart_id=chart_id, title="", description="")


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        draw(bar_chart, [Bar("a", "A", -1)])
    with pytest.raises(ValueError, match="negative"):
        draw(column_chart, [Bar("a", "A", 3), Bar("b", "B", -1)])
    with pytest.raises(ValueError, match="negative"):
        tiles({"by": -1})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20))
def test_bar_lengths_follow_the_values(values: list[int]) -> None:
    bars = [Bar(f"k{i}", f"Kategorie {i}", value) for i, value in enumerate(values)]
    for chart, kind, size in (
        (bar_chart, "chart-bar", "width"),
        (column_chart, "chart-column", "height"),
    ):
        root = draw(chart, bars)
        check_picture(root)
        found = items(root, kind)
        lengths = {}
        for bar in bars:
            rect = found[bar.key].find("rect")
            assert (rect is None) == (bar.value == 0)  # 0 is drawn as nothing, all else is drawn
            lengths[bar.key] = 0.0 if rect is None else float(rect.get(size, "0"))
            assert tooltip(found[bar.key]).endswith(f": {bar.value}")
        for one in bars:
            for other in bars:
                if one.value < other.value:
                    assert lengths[one.key] <= lengths[other.key]
                if one.value == other.value:
                    assert lengths[one.key] == lengths[other.key]


@settings(max_examples=50, deadline=None)
@given(st.text())
# Labels that a check of the raw markup would take for a reference (a flaky failure once).
@example("href")
@example('http://example.org/" href="x')
@example("url(#c-title)")
@example('xmlns="http://www.w3.org/2000/svg"')
@example("<a href='x'>")
def test_any_label_gives_well_formed_markup(label: str) -> None:
    for chart in (bar_chart, column_chart):
        markup = chart(
            [Bar(label, label, 1), Bar(f"z{label}", label, 0)],
            chart_id="c",
            title=label,
            description=label,
        )
        root = parse(markup)
        check_picture(root)
        assert len(items(root, kind_of(chart))) == 2
    root = parse(
        land_tile_grid({"by": 1}, {"by": label}, chart_id="m", title=label, description=label)
    )
    check_picture(root, "m")


def test_a_very_long_label_leaves_room_for_the_columns() -> None:
    """Found by the property above: an 81-character label pushed the plot below zero width."""
    label = "0" * 81
    for chart in (bar_chart, column_chart):
        markup = chart(
            [Bar(label, label, 1), Bar("z", label, 0)], chart_id="c", title=label, description=label
        )
        check_picture(parse(markup))


def test_the_tile_grid_has_sixteen_tiles_in_distinct_places() -> None:
    root = tiles({code: 10 * index for index, code in enumerate(LAND_CODES)})

    check_picture(root, "map")
    assert sorted(LANDER_TILES) == sorted(LAND_CODES)
    assert len(set(LANDER_TILES.values())) == 16
    found = items(root, "chart-tile")
    assert sorted(found) == sorted(LAND_CODES)
    places = set()
    for index, code in enumerate(LAND_CODES):
        group = found[code]
        rect = group.find("rect")
        assert rect is not None
        places.add((rect.get("x"), rect.get("y")))
        assert texts(group) == [code.upper(), str(10 * index)]
        assert tooltip(group) == f"{LAND_NAMES[code]}: {10 * index}"
    assert len(places) == 16


def test_the_layout_keeps_north_up_and_west_left() -> None:
    column = {code: place[0] for code, place in LANDER_TILES.items()}
    row = {code: place[1] for code, place in LANDER_TILES.items()}

    assert row["sh"] < row["hh"] < row["ni"] < row["he"] < row["bw"]
    assert row["mv"] < row["be"] < row["sn"]
    assert column["nw"] < column["ni"] < column["st"] < column["bb"]
    assert column["sl"] < column["bw"] < column["by"]
    assert column["rp"] < column["he"] < column["th"] < column["sn"]
    assert all(0 <= c <= 4 and 0 <= r <= 4 for c, r in LANDER_TILES.values())


def test_tiles_are_shaded_by_count_with_readable_text_and_a_key() -> None:
    root = tiles({"nw": 210, "by": 95, "bw": 120, "mv": 7, "sl": 0, "hb": 1})

    check_picture(root, "map")
    check_contrast_on_tiles(root)
    found = items(root, "chart-tile")
    fill = {code: group.find("rect").get("fill") for code, group in found.items()}  # type: ignore[union-attr]
    assert fill["th"] == fill["sh"] == fill["sl"] == SHADES[0][0]  # missing codes count 0
    assert texts(found["th"]) == ["TH", "0"]
    assert texts(found["sl"]) == ["SL", "0"]
    assert tooltip(found["sl"]) == "Saarland: 0"
    assert len({fill["th"], fill["mv"], fill["bw"], fill["nw"]}) == 4
    assert fill["mv"] == fill["by"] == fill["hb"]  # 1, 7 and 95 fall into one range, 1–100
    assert texts(found["hb"]) == ["HB", "1"]
    key = next(g for g in root.iter("g") if g.get("class") == "chart-key")
    assert texts(key) == ["0", "1–100", "101–200", "201–300"]


def check_contrast_on_tiles(root: ET.Element) -> None:
    for group in root.iter("g"):
        rect = group.find("rect")
        if group.get("class") != "chart-tile" or rect is None:
            continue
        for text in group.iter("text"):
            assert contrast(text.get("fill", ""), rect.get("fill", "")) >= 4.5
        outline = rect.get("stroke", "")
        assert contrast(outline, PAPER) >= 3  # the tile's edge, whatever its shade


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
    root = tiles(dict(values))

    check_picture(root, "map")
    check_contrast_on_tiles(root)
    legend = next(g for g in root.iter("g") if g.get("class") == "chart-key")
    assert texts(legend) == key


def test_every_shade_in_use_has_readable_text() -> None:
    # 0 to 40 in steps of about 2.7: 0 and all four ranges of 10.
    values = {code: i * 40 // 15 for i, code in enumerate(LAND_CODES)}
    root = tiles(values)

    check_contrast_on_tiles(root)
    found = items(root, "chart-tile")
    shades = {group.find("rect").get("fill") for group in found.values()}  # type: ignore[union-attr]
    assert len(shades) == 5


def test_missing_names_show_the_code_and_caller_text_is_escaped() -> None:
    markup = land_tile_grid({"by": 3}, {"be": NASTY}, chart_id="m", title=NASTY, description=NASTY)

    assert "<script" not in markup
    root = parse(markup)
    check_picture(root, "m")
    assert root[0].text == NASTY
    assert root[1].text == NASTY
    found = items(root, "chart-tile")
    assert tooltip(found["be"]) == f"{NASTY}: 0"
    assert tooltip(found["bw"]) == "BW: 0"
    assert tooltip(found["by"]) == "BY: 3"


def test_a_large_count_is_shown_whole_on_its_tile() -> None:
    found = items(tiles({"nw": 1234567, "by": 0}), "chart-tile")

    assert texts(found["nw"]) == ["NW", "1234567"]  # numbers are never cut
    assert tooltip(found["nw"]) == "Nordrhein-Westfalen: 1234567"
    assert texts(found["by"]) == ["BY", "0"]


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(LAND_CODES), st.integers(min_value=0, max_value=10**6)))
def test_every_tile_shows_its_count_and_more_is_never_lighter(counts: dict[str, int]) -> None:
    root = tiles(counts)

    check_picture(root, "map")
    check_contrast_on_tiles(root)
    shades = [shade for shade, _ink in SHADES]
    found = items(root, "chart-tile")
    darkness = {}
    for code in LAND_CODES:
        count = counts.get(code, 0)
        assert texts(found[code]) == [code.upper(), str(count)]
        rect = found[code].find("rect")
        assert rect is not None
        darkness[code] = shades.index(rect.get("fill", ""))
        assert (darkness[code] == 0) == (count == 0)  # the lightest shade is 0's alone
    for one in LAND_CODES:
        for other in LAND_CODES:
            if counts.get(one, 0) < counts.get(other, 0):
                assert darkness[one] <= darkness[other]


@pytest.mark.parametrize(
    ("values", "labels"), [({"xx": 1}, {}), ({"BY": 1}, {}), ({}, {"de": "Deutschland"})]
)
def test_an_unknown_land_code_is_refused(values: dict[str, int], labels: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="unknown Land"):
        land_tile_grid(dict(values), labels, chart_id="m", title="", description="")


def estimated_extent(text: ET.Element, root: ET.Element) -> tuple[float, float]:
    """The left and right end of a text line as the charts estimate it (CHAR_WIDTH a char)."""
    x = float(text.get("x", "0"))
    width = len(text.text or "") * CHAR_WIDTH
    anchor = text.get("text-anchor")
    for parent in root.iter("text"):
        if text in list(parent):  # a tspan takes its text's anchor
            anchor = parent.get("text-anchor")
    if anchor == "end":
        return x - width, x
    if anchor == "middle":
        return x - width / 2, x + width / 2
    return x, x + width


@pytest.mark.parametrize("width", [NARROW_WIDTH, WIDTH])
@pytest.mark.parametrize("chart", [bar_chart, column_chart])
@given(values=st.lists(st.integers(0, 2_000_000), min_size=1, max_size=24))
@settings(max_examples=40, deadline=None)
def test_either_layout_keeps_every_text_inside_its_width(
    chart: Chart, width: int, values: list[int]
) -> None:
    labels = ["Benachteiligung bei der Wohnungssuche oder beim Wohnen", "2026", "Bedrohung"]
    bars = [Bar(f"k{n}", labels[n % 3], value) for n, value in enumerate(values)]
    root = parse(chart(bars, chart_id="c", title="t", description="d", width=width))
    assert root.get("viewBox", "").startswith(f"0 0 {width} ")
    lines = [t for t in root.iter("text") if t.text] + list(root.iter("tspan"))
    for line in lines:
        left, right = estimated_extent(line, root)
        assert left >= 0, (line.text, left)
        assert right <= width, (line.text, right)


def test_on_a_phone_bar_labels_stand_whole_above_their_bars() -> None:
    label = "Benachteiligung bei der Wohnungssuche oder beim Wohnen"
    root = parse(
        bar_chart([Bar("k", label, 63)], chart_id="c", title="t", description="d",
                  width=NARROW_WIDTH)
    )  # fmt: skip
    assert "chart-stacked" in root.get("class", "")
    group = items(root, "chart-bar")["k"]
    label_text = group.find("text")
    assert label_text is not None
    assert label_text.get("text-anchor") == "start"
    spans = list(label_text.iter("tspan"))
    assert " ".join(span.text or "" for span in spans) == label  # wrapped, nothing cut
    bar = group.find("rect")
    assert bar is not None
    assert max(float(span.get("y", "0")) for span in spans) < float(bar.get("y", "0"))
    # The wide layout keeps the label beside the bar.
    wide = items(draw(bar_chart, [Bar("k", label, 63)]), "chart-bar")["k"].find("text")
    assert wide is not None
    assert wide.get("text-anchor") == "end"


@pytest.mark.parametrize("largest", [9, 99, 12_345, 1_999_999])
def test_a_narrow_value_axis_has_fewer_ticks_that_do_not_touch(largest: int) -> None:
    bars = [Bar("a", "A", largest), Bar("b", "B", 1)]
    root = parse(bar_chart(bars, chart_id="c", title="t", description="d", width=NARROW_WIDTH))
    ticks = [t for t in root.findall("text") if t.get("text-anchor") == "middle"]
    assert 2 <= len(ticks) <= MAX_TICK_INTERVALS + 1
    extents = sorted(estimated_extent(t, root) for t in ticks)
    assert all(a[1] < b[0] for a, b in zip(extents, extents[1:], strict=False))


def test_a_partial_period_is_marked_on_the_chart_and_named_in_full_in_its_tooltip() -> None:
    bars = [Bar("2025", "2025", 40), Bar("2026", "2026", 30, note="bis 1. Dezember 2026")]
    for chart in (column_chart, bar_chart):
        found = items(draw(chart, bars), kind_of(chart))
        assert tooltip(found["2026"]) == "2026 (bis 1. Dezember 2026): 30"
        assert tooltip(found["2025"]) == "2025: 40"
        assert f"2026{PARTIAL_MARK}" in texts(found["2026"])
        assert f"2025{PARTIAL_MARK}" not in texts(found["2025"])


def test_the_phone_tile_grid_fits_the_phone() -> None:
    root = parse(
        land_tile_grid({"nw": 123_456}, {}, chart_id="c", title="t", description="d",
                       width=NARROW_WIDTH)
    )  # fmt: skip
    width = float(root.get("viewBox", "").split()[2])
    assert width <= NARROW_WIDTH
    tiles = [float(rect.get("width", "0")) for rect in root.iter("rect")]
    assert max(tiles) < 72  # smaller tiles, text at the same size
