"""Charts for the public statistics page, drawn on the server as inline SVG.

The page has no JavaScript and prints a data table beside every chart, so a chart is only a
picture of that table: the root ``<svg role="img">`` is named by its ``<title>`` and ``<desc>``
and its shapes are not read out one by one. Numbers are plain digits ("12345"), as in the table.

The markup must pass the site's Content-Security-Policy (``style-src 'self'``, see
app/security.py): no ``style`` attribute and no ``<style>`` element, only presentation
attributes (fill, font-size, ...) and the ``chart`` classes in static/css/site.css. Nothing
refers to anything, inside the document or out (no ``xmlns``, ``href``, ``url(...)``, images or
scripts). Every text from the caller is escaped, and the output is well-formed XML on its own,
so tests can parse it.

Every bar, column and tile has a count (an ``int``, 0 or more) and shows it. A 0 is a bar of
no length, drawn as nothing, with its value "0" beside it.

There are no font metrics on the server: text widths are estimated generously at
``CHAR_WIDTH`` per character, which leaves some air but keeps labels from overlapping.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from markupsafe import Markup, escape

# Colours from the site's palette (static/css/site.css). Text colours reach 4.5:1 on their
# background, bar and tile colours 3:1 on white; tests/unit/research/test_charts.py checks
# the pairs.
INK = "#1b1b1f"
MUTED = "#4a4a55"  # axis lines and tile edges: 8.7:1 on white
PAPER = "#ffffff"
GRID = "#cfcac0"  # grid lines, only decoration
BAR = "#0b5d5b"  # the site's accent, 7.7:1 on white
# Tile shades, light to dark: the first is for 0, the other four for ranges of counts.
# Each comes with the text colour that is readable on it.
SHADES: tuple[tuple[str, str], ...] = (
    ("#eef5f4", INK),
    ("#bfe0dc", INK),
    ("#7dbdb6", INK),
    ("#2e7f79", PAPER),
    ("#073f3e", PAPER),
)

FONT_SIZE = 15
# Marks the label of a partial period on a chart; the chart's description says what it means.
PARTIAL_MARK = "*"
# Average glyph width as a share of the font size, rounded up: system fonts run 0.5 to 0.6.
CHAR_WIDTH = 0.6 * FONT_SIZE
LINE_HEIGHT = 18
# With the CSS max-width of 37.5rem a viewBox unit is one CSS pixel on a wide screen.
WIDTH = 600
# The width of each chart's phone layout: 320 CSS pixels less the page's 1rem gutters, so that a
# viewBox unit is a CSS pixel at 320 (and more on wider phones): text stays at FONT_SIZE.
NARROW_WIDTH = 288
# From this viewBox width on, a bar's label stands beside it, not above it.
WIDE_LAYOUT = 450
# At most this many intervals on a value axis; the step is the next 1, 2 or 5 × 10^n.
MAX_TICK_INTERVALS = 5

_CHART_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
# Characters XML does not allow even as references; HTML would only stumble over them too.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# The 16 Länder as tiles (column, row) in a 5 × 5 grid, north at the top, west at the left:
#
#               SH
#           HB  HH  MV
#       NW  NI  ST  BE  BB
#       RP  HE  TH  SN
#       SL  BW  BY
#
# Rows follow latitude and columns longitude as far as squares allow, as in the common tile
# maps of Germany: the city states sit at the edge of the Land around them (Bremen on top of
# Lower Saxony, Hamburg between Schleswig-Holstein and Lower Saxony, Berlin beside
# Brandenburg). Five rows are enough, which keeps the map compact on a phone. Tiles are
# drawn in reading order, row by row.
LANDER_TILES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "sh": (2, 0),
        "hb": (1, 1),
        "hh": (2, 1),
        "mv": (3, 1),
        "nw": (0, 2),
        "ni": (1, 2),
        "st": (2, 2),
        "be": (3, 2),
        "bb": (4, 2),
        "rp": (0, 3),
        "he": (1, 3),
        "th": (2, 3),
        "sn": (3, 3),
        "sl": (0, 4),
        "bw": (1, 4),
        "by": (2, 4),
    }
)
TILE_SIZE = 72
# On a phone (288 CSS pixels between the gutters at 320) the grid is 5 × 52 + 4 × 6 + 4 wide.
NARROW_TILE_SIZE = 52
TILE_GAP = 6
# Tile shading uses at most this many ranges of counts above 0 (the four darker SHADES).
MAX_SHADE_RANGES = len(SHADES) - 1


@dataclass(frozen=True)
class Bar:
    """One category of a bar or column chart.

    Attributes:
        key: the category code, e.g. "verbal_abuse", "2025", "2025-03" or "by".
        label: the label shown to people, already translated.
        value: the published count, 0 or more.
        note: for a partial period, what it covers ("bis 1. Dezember 2026"), already
            translated; the chart marks its label with ``PARTIAL_MARK`` and its tooltip and
            the data table give the note in full.
    """

    key: str
    label: str
    value: int
    note: str = ""

    @property
    def full_label(self) -> str:
        """The label with its note in brackets: what the tooltip and the data table show."""
        return f"{self.label} ({self.note})" if self.note else self.label

    @property
    def drawn_label(self) -> str:
        return self.label + PARTIAL_MARK if self.note else self.label


def bar_chart(
    bars: Sequence[Bar], *, chart_id: str, title: str, description: str, width: float = WIDTH
) -> Markup:
    """Horizontal bars, one per category in the given order: label, bar, value at its end.

    A category counted 0 has no bar, only its value "0" at the axis. Wide (``width`` of
    ``WIDE_LAYOUT`` or more), each label stands left of its bar; narrower, it stands above its
    bar across the whole width, so that a phone keeps the bars long and the text large.
    Labels wrap onto up to three lines and are cut with "…" only beyond that; each bar's
    ``<title>`` keeps the whole label.

    Args:
        bars: the categories, top to bottom.
        chart_id: a unique id on the page (letters, digits, "-", "_"); the ids of the title
            and description are made from it.
        title: the chart's accessible name.
        description: what the chart shows, read after the title.
        width: the width of the viewBox, meant to be drawn at one CSS pixel per unit.

    Returns:
        The ``<svg>`` element, safe to put into a template.

    Raises:
        ValueError: for a malformed ``chart_id`` or a negative value.
    """
    _check_chart_id(chart_id)
    _check_values(bar.value for bar in bars)
    beside = width >= WIDE_LAYOUT
    label_area = 0.4 * width if beside else width - 8
    max_chars = int(label_area // CHAR_WIDTH)
    labels = [_wrap(bar.drawn_label, max_chars, max_lines=3) for bar in bars]
    longest_label = max((len(line) for lines in labels for line in lines), default=0)
    bar_height = 22
    if beside:
        label_right = 4 + longest_label * CHAR_WIDTH
        # The label's longest line ends here; the first tick's number is centred on the axis.
        origin = label_right + 8
    else:
        label_right = 0
        origin = 4 + CHAR_WIDTH / 2  # the tick "0" is centred on the axis and must fit
    value_chars = max([len(str(_largest(bars) * 2)), *(_widths(bars))])
    plot_right = width - value_chars * CHAR_WIDTH - 10
    plot_width = plot_right - origin
    top_value, ticks = _axis(_largest(bars), _tick_intervals(plot_width, value_chars))
    lines_per_row = max((len(lines) for lines in labels), default=1)
    if beside:
        row_height = max(32, lines_per_row * LINE_HEIGHT + 12)
    else:
        # The label's lines, then the bar below them, then some air before the next label.
        row_height = lines_per_row * LINE_HEIGHT + 6 + bar_height + 10
    top = 6
    # Without bars the plot keeps the height of one row, so that the empty axis shows.
    bottom = top + max(len(bars), 1) * row_height
    height = bottom + 8 + FONT_SIZE + 6

    classes = "chart chart-bars" + ("" if beside else " chart-stacked")
    parts = [_open_svg(classes, chart_id, title, description, height, width)]
    for tick in ticks:
        x = origin + plot_width * tick / top_value
        parts.append(_line(x, top, x, bottom, GRID))
        parts.append(_text(str(tick), x, bottom + 8 + FONT_SIZE, anchor="middle"))
    for index, (bar, lines) in enumerate(zip(bars, labels, strict=True)):
        row_top = top + index * row_height
        shown = str(bar.value)
        parts.append(f'<g class="chart-bar" data-key="{_escape(bar.key)}">')
        parts.append(f"<title>{_escape(bar.full_label)}: {_escape(shown)}</title>")
        if beside:
            middle = row_top + row_height / 2
            parts.append(_label(lines, label_right, middle))
        else:
            middle = row_top + len(lines) * LINE_HEIGHT + 6 + bar_height / 2
            parts.append(_label(lines, 2, row_top + len(lines) * LINE_HEIGHT / 2, "start"))
        end = origin
        if bar.value:  # 0 is a bar of no length, drawn as nothing
            end = origin + plot_width * bar.value / top_value
            parts.append(_rect(origin, middle - bar_height / 2, end - origin, bar_height, BAR))
        parts.append(_text(shown, end + 6, _baseline(middle)))
        parts.append("</g>")
    # The axis line goes over the bars' left edges so that it reads as one line.
    parts.append(_line(origin, top, origin, bottom, MUTED))
    return _close_svg(parts)


def column_chart(
    bars: Sequence[Bar], *, chart_id: str, title: str, description: str, width: float = WIDTH
) -> Markup:
    """Vertical columns for a time series (years or months), left to right in the given order.

    With few columns every column has its label below and its value above. With many (up to
    five years of months) labels are thinned to every 2nd, 3rd, 4th, 6th, 12th... column and
    values are left to the axis and the data table beside the chart; each column's
    ``<title>`` still names its label and value. A period counted 0 has no column, only its
    value "0" on the axis when values are shown.

    Args:
        bars: the periods, oldest first.
        chart_id: a unique id on the page (letters, digits, "-", "_"); the ids of the title
            and description are made from it.
        title: the chart's accessible name.
        description: what the chart shows, read after the title.
        width: the width of the viewBox, meant to be drawn at one CSS pixel per unit.

    Returns:
        The ``<svg>`` element, safe to put into a template.

    Raises:
        ValueError: for a malformed ``chart_id`` or a negative value.
    """
    _check_chart_id(chart_id)
    _check_values(bar.value for bar in bars)
    count = len(bars)
    # The value axis is as tall on a phone as on a wide screen: five intervals fit.
    top_value, ticks = _axis(_largest(bars))
    longest_label = max((len(bar.drawn_label) for bar in bars), default=0)
    # Longer labels are shortened below; the margins they claim must leave room for the plot.
    label_width = min(longest_label * CHAR_WIDTH, width / 3)
    # The first and last labels are centred under their columns and must not leave the chart.
    tick_width = len(str(top_value)) * CHAR_WIDTH + 8
    side = max(label_width / 2 - 2, 4.0)
    origin = max(tick_width, side)
    plot_width = width - origin - side
    slot = plot_width / max(count, 1)
    column_width = min(slot * 0.7, 56)
    value_chars = max(_widths(bars), default=1)
    show_values = slot >= value_chars * CHAR_WIDTH + 4
    # One character of air between labels: CHAR_WIDTH is already generous for digits.
    every = _label_interval(slot, label_width + CHAR_WIDTH)
    # No wider than the margins claimed for it, so that the first and last stay inside.
    label_chars = int(min(every * slot, label_width) // CHAR_WIDTH)
    plot_top = 6 + FONT_SIZE + 6  # room for the value above the tallest column
    plot_height = 220
    baseline = plot_top + plot_height
    height = baseline + 8 + FONT_SIZE + 6

    parts = [_open_svg("chart chart-columns", chart_id, title, description, height, width)]
    for tick in ticks:
        y = baseline - plot_height * tick / top_value
        parts.append(_line(origin, y, width - side, y, GRID))
        parts.append(_text(str(tick), origin - 6, _baseline(y), anchor="end"))
    for index, bar in enumerate(bars):
        centre = origin + slot * (index + 0.5)
        left = centre - column_width / 2
        shown = str(bar.value)
        parts.append(f'<g class="chart-column" data-key="{_escape(bar.key)}">')
        parts.append(f"<title>{_escape(bar.full_label)}: {_escape(shown)}</title>")
        column_top: float = baseline
        if bar.value:  # 0 is a column of no height, drawn as nothing
            column_top = baseline - plot_height * bar.value / top_value
            parts.append(_rect(left, column_top, column_width, baseline - column_top, BAR))
        if show_values:
            parts.append(_text(shown, centre, column_top - 6, anchor="middle"))
        if index % every == 0:
            label = _shorten(bar.drawn_label, label_chars)
            parts.append(_text(label, centre, baseline + 8 + FONT_SIZE, anchor="middle"))
        parts.append("</g>")
    parts.append(_line(origin, baseline, width - side, baseline, MUTED))
    return _close_svg(parts)


def land_tile_grid(
    values: Mapping[str, int],
    labels: Mapping[str, str],
    *,
    chart_id: str,
    title: str,
    description: str,
    width: float = WIDTH,
) -> Markup:
    """The 16 Länder as equal squares placed as in ``LANDER_TILES``, shaded by count.

    Each tile shows the Land's upper-case code and its count, so the shade is never the only
    clue; its ``<title>`` gives the full name and the count. Counts above 0 fall into at most
    four ranges of equal width (a 1, 2 or 5 × 10^n step), shaded light to dark; 0 has the
    lightest shade of its own. A key below the grid lists the shades in use.

    Args:
        values: count per Land code (lower case, as in the codebook); a missing code counts 0.
        labels: the full, translated name per Land code; a missing name shows the code.
        chart_id: a unique id on the page (letters, digits, "-", "_"); the ids of the title
            and description are made from it.
        title: the chart's accessible name.
        description: what the chart shows, read after the title.
        width: the room there is, in viewBox units drawn at one CSS pixel each: the tiles
            shrink to fit it (down to ``NARROW_TILE_SIZE``), their text does not.

    Returns:
        The ``<svg>`` element, safe to put into a template.

    Raises:
        ValueError: for a malformed ``chart_id``, a negative value, or a code in ``values``
            or ``labels`` that is not one of the 16 Länder.
    """
    _check_chart_id(chart_id)
    unknown = sorted((set(values) | set(labels)) - set(LANDER_TILES))
    if unknown:
        raise ValueError(f"unknown Land codes {unknown}; use {', '.join(LANDER_TILES)}")
    _check_values(values.values())
    counts = {code: values.get(code, 0) for code in LANDER_TILES}
    largest = max(counts.values())
    step, ranges = _shade_ranges(largest)
    # The darkest shades are used when there are fewer ranges, so the top range is always dark.
    first_shade = 1 + MAX_SHADE_RANGES - ranges

    key: list[tuple[str, str]] = [(SHADES[0][0], "0")]
    for index in range(ranges):
        low, high = index * step + 1, (index + 1) * step
        text = str(low) if low == high else f"{low}–{high}"
        key.append((SHADES[first_shade + index][0], text))
    tile = TILE_SIZE if width >= 5 * TILE_SIZE + 4 * TILE_GAP + 4 else NARROW_TILE_SIZE
    grid_width = 5 * tile + 4 * TILE_GAP
    grid_height = 5 * tile + 4 * TILE_GAP
    swatch = 18
    entry_width = swatch + 8 + max(len(text) for _, text in key) * CHAR_WIDTH + 16
    per_row = max(1, int(grid_width // entry_width))
    key_top = 2 + grid_height + 18
    key_rows = math.ceil(len(key) / per_row)
    drawn_width = max(grid_width, per_row * entry_width) + 4
    height = key_top + key_rows * (swatch + 10) + 2

    parts = [_open_svg("chart chart-tiles", chart_id, title, description, height, drawn_width)]
    for code, (column, row) in LANDER_TILES.items():
        count = counts[code]
        if count == 0:
            fill, ink = SHADES[0]
        else:
            fill, ink = SHADES[first_shade + min(-(-count // step), ranges) - 1]
        x = 2 + column * (tile + TILE_GAP)
        y = 2 + row * (tile + TILE_GAP)
        shown = str(count)
        name = labels.get(code, code.upper())
        parts.append(f'<g class="chart-tile" data-key="{code}">')
        parts.append(f"<title>{_escape(name)}: {_escape(shown)}</title>")
        parts.append(_rect(x, y, tile, tile, fill, stroke=MUTED))
        centre = x + tile / 2
        # Two lines of text, centred in the tile as a block.
        first_line = y + tile / 2 - 4
        parts.append(
            _text(code.upper(), centre, first_line, anchor="middle", fill=ink, weight="700")
        )
        parts.append(_text(shown, centre, first_line + LINE_HEIGHT + 2, anchor="middle", fill=ink))
        parts.append("</g>")
    parts.append('<g class="chart-key">')
    for index, (fill, text) in enumerate(key):
        key_x = 2 + (index % per_row) * entry_width
        key_y = key_top + (index // per_row) * (swatch + 10)
        parts.append(_rect(key_x, key_y, swatch, swatch, fill, stroke=MUTED))
        parts.append(_text(text, key_x + swatch + 8, _baseline(key_y + swatch / 2)))
    parts.append("</g>")
    return _close_svg(parts)


def _escape(text: str) -> Markup:
    """``markupsafe.escape`` that also drops the few characters XML cannot hold at all."""
    return escape(_NOT_XML.sub("", text))


def _check_chart_id(chart_id: str) -> None:
    # The id ends up in aria-labelledby (a space-separated list) and in url(#...).
    if not _CHART_ID.match(chart_id):
        raise ValueError(f"chart_id {chart_id!r} must be letters, digits, '-' or '_'")


def _check_values(values: Iterable[int]) -> None:
    for value in values:
        if value < 0:
            raise ValueError(f"a count cannot be negative, got {value}")


def _largest(bars: Sequence[Bar]) -> int:
    return max((bar.value for bar in bars), default=0)


def _widths(bars: Sequence[Bar]) -> list[int]:
    return [len(str(bar.value)) for bar in bars]


def _nice_step(at_least: float) -> int:
    """The smallest whole 1, 2 or 5 × 10^n that is at least ``at_least``."""
    magnitude = 1
    while magnitude * 10 <= at_least:
        magnitude *= 10
    for multiple in (1, 2, 5):
        if multiple * magnitude >= at_least:
            return multiple * magnitude
    return 10 * magnitude


def _tick_intervals(plot_width: float, label_chars: int) -> int:
    """How many intervals fit on a horizontal value axis without their numbers touching."""
    room = label_chars * CHAR_WIDTH + 2 * CHAR_WIDTH
    return max(1, min(MAX_TICK_INTERVALS, int(plot_width // room)))


def _axis(largest: int, intervals: int = MAX_TICK_INTERVALS) -> tuple[int, list[int]]:
    """The axis end and its ticks: 0 up to the first multiple of a nice step ≥ ``largest``.

    Without any count above 0 the axis is a lone 0, and its end is 1 so that nothing
    divides by zero.
    """
    if largest <= 0:
        return 1, [0]
    step = _nice_step(largest / intervals)
    top = step * math.ceil(largest / step)
    return top, list(range(0, top + 1, step))


def _shade_ranges(largest: int) -> tuple[int, int]:
    """The width of each shaded range of counts and how many ranges reach ``largest``."""
    if largest <= 0:
        return 1, 0
    step = _nice_step(largest / MAX_SHADE_RANGES)
    return step, math.ceil(largest / step)


def _label_interval(slot: float, label_width: float) -> int:
    """Label every n-th column so that labels do not collide.

    Steps of 2, 3, 4, 6 and multiples of 12 keep month labels on the same months each year.
    """
    for every in (1, 2, 3, 4, 6):
        if every * slot >= label_width:
            return every
    return 12 * math.ceil(label_width / (12 * slot))


def _shorten(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[: max(max_chars - 1, 0)].rstrip() + "…"


def _wrap(text: str, max_chars: int, max_lines: int = 2) -> list[str]:
    """Break ``text`` at spaces into lines of at most ``max_chars``; "…" ends a cut text."""
    lines: list[str] = []
    for word in text.split():
        while len(word) > max_chars:  # a word longer than a line is broken
            lines.append(word[:max_chars])
            word = word[max_chars:]
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], _shorten(rest, max_chars)]
    return lines or [""]


def _n(number: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros, the same on every run."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _baseline(middle: float) -> float:
    # dominant-baseline is not honoured everywhere; a third of the font size centres digits.
    return middle + FONT_SIZE * 0.35


def _open_svg(
    classes: str, chart_id: str, title: str, description: str, height: float, width: float = WIDTH
) -> str:
    return (
        f'<svg class="{classes}" role="img"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc"'
        f' viewBox="0 0 {_n(width)} {_n(height)}" width="100%"'
        f' font-family="inherit" font-size="{FONT_SIZE}" fill="{INK}">'
        f'<title id="{chart_id}-title">{_escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{_escape(description)}</desc>'
    )


def _close_svg(parts: list[str]) -> Markup:
    parts.append("</svg>")
    # Safe: the parts are built here, and every text from the caller went through _escape().
    return Markup("".join(parts))  # noqa: S704


def _rect(
    x: float, y: float, width: float, height: float, fill: str, *, stroke: str | None = None
) -> str:
    outline = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}"'
        f' fill="{fill}"{outline}/>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"'
        f' stroke="{colour}" stroke-width="1"/>'
    )


def _text(
    text: str,
    x: float,
    y: float,
    *,
    anchor: str = "start",
    fill: str = INK,
    weight: str | None = None,
) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" fill="{fill}"{bold}>'
        f"{_escape(text)}</text>"
    )


def _label(lines: Sequence[str], x: float, middle: float, anchor: str = "end") -> str:
    """A label of one or more lines, centred on ``middle``, ending (or starting) at ``x``."""
    first = _baseline(middle - (len(lines) - 1) * LINE_HEIGHT / 2)
    spans = "".join(
        f'<tspan x="{_n(x)}" y="{_n(first + index * LINE_HEIGHT)}">{_escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return f'<text text-anchor="{anchor}" fill="{INK}">{spans}</text>'
