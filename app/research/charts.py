"""What the charts of the public statistics page draw: the rules, without any markup.

The charts are HTML and CSS pictures (macros in templates/pages/_charts.html, rules in the
"Charts" section of static/css/site.css), not SVG: Tor Browser at "Safest" turns SVG off, and a
page without JavaScript cannot tell that it did. Every chart is one ``role="img"`` element named
by its title and description; the data table beside it holds the numbers for everyone else.

This module decides, from the published counts, what each bar, column and tile shows:

- a bar's length is a whole percent 0..100 of the chart's scale, a "nice" number (1, 2 or
  5 × 10^n times a whole number) at or above the largest count, so that lengths compare with
  round values; the site's CSS has one class per percent (``len-0`` … ``len-100``) because the
  Content-Security-Policy allows no ``style`` attribute (app/security.py);
- a 0 is a bar of no length with its "0" beside it, and any other count is a bar of 1 % at
  least, never one that looks like a 0;
- the label of a partial period carries ``PARTIAL_MARK``;
- each Land's tile has its place in a 5 × 5 grid and a shade 0..4 by range of counts.

Numbers are plain digits ("12345"), as in the tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# Colours from the site's palette, repeated in the "Charts" section of static/css/site.css
# (tests/unit/research/test_charts.py checks that both agree, and the contrast of each pair):
# text reaches 4.5:1 on what lies behind it, bars and tile edges 3:1 on the white page.
INK: Final = "#1b1b1f"
MUTED: Final = "#4a4a55"  # the axis line and the tiles' edges: 8.7:1 on white
PAPER: Final = "#ffffff"
BAR: Final = "#0b5d5b"  # the site's accent, 7.7:1 on white
# Tile shades, light to dark: the first is for 0, the other four for ranges of counts.
# Each comes with the text colour that is readable on it.
SHADES: Final[tuple[tuple[str, str], ...]] = (
    ("#eef5f4", INK),
    ("#bfe0dc", INK),
    ("#7dbdb6", INK),
    ("#2e7f79", PAPER),
    ("#073f3e", PAPER),
)

# Marks the label of a partial period on a chart; the note below the chart says what it means.
PARTIAL_MARK: Final = "*"
# At most this many intervals of a nice step up to the scale (the scale is a few such steps).
MAX_TICK_INTERVALS: Final = 5
# Tile shading uses at most this many ranges of counts above 0 (the four darker SHADES).
MAX_SHADE_RANGES: Final = len(SHADES) - 1

# A series stands as columns only in a chart at least this wide (rem; the container query in
# site.css says the same). Narrower, and in browsers without container queries, it is bars.
COLUMNS_FROM_REM: Final = 36
# Columns whose text is written sideways are 1.25rem wide at least (a line of 0.875rem text
# and air); 24 of them with their gaps fit COLUMNS_FROM_REM. More periods stay bars.
MAX_COLUMNS: Final = 24
# Upright, the texts of the columns stand side by side in one line: at COLUMNS_FROM_REM and
# 0.875rem text that holds about 65 characters of the widest system fonts (0.64em a digit),
# less the air between columns. Each column counts its longest text plus one character.
UPRIGHT_CHARACTERS: Final = 48
# The room kept for the numbers is sized in digits (``digits-N`` in site.css); a count has far
# fewer, but a longer number only wraps inside its room.
MAX_DIGITS: Final = 20

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
# listed in reading order, row by row. A map keeps west on the left in every language.
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


@dataclass(frozen=True)
class Bar:
    """One category of a bar or column chart, as the page counted it.

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


@dataclass(frozen=True)
class DrawnBar:
    """A bar as the chart draws it.

    Attributes:
        key: the category code.
        label: the label on the chart (a partial period's with ``PARTIAL_MARK``).
        tooltip: the full label and the value, "2026 (bis 1. Dezember 2026): 30".
        value: the count, shown beside the bar.
        length: the bar's length in whole percent of the chart's scale, 0 only for a 0.
    """

    key: str
    label: str
    tooltip: str
    value: int
    length: int


@dataclass(frozen=True)
class SeriesChart:
    """Bars (or columns) for a series of categories, in the given order.

    Attributes:
        bars: one per category.
        scale: the count a bar of 100 % stands for: a whole number (at most
            ``MAX_TICK_INTERVALS``) of nice steps, at least the largest count; 1 when every
            count is 0, so that nothing divides by zero.
        digits: how many digits the widest count has (at most ``MAX_DIGITS``): the room the
            chart keeps beside (or above) its bars for the numbers.
        columns: stand as vertical columns where the chart is wide enough (a time series);
            otherwise always horizontal bars.
        upright: the labels and numbers stand upright, as they always do beside bars; as
            columns they are written sideways where many columns would not leave room.
    """

    bars: tuple[DrawnBar, ...]
    scale: int
    digits: int
    columns: bool
    upright: bool


@dataclass(frozen=True)
class Tile:
    """One Land on the tile map.

    Attributes:
        code: the Land's code (lower case, as in the codebook).
        label: the short label on the tile, the code in capitals ("NW").
        tooltip: the full name and the count, "Nordrhein-Westfalen: 40".
        value: the count, shown on the tile.
        column: the grid column, 1 (west) to 5.
        row: the grid row, 1 (north) to 5.
        shade: the index into ``SHADES``: 0 for a 0 alone, 1..4 for the ranges above.
    """

    code: str
    label: str
    tooltip: str
    value: int
    column: int
    row: int
    shade: int


@dataclass(frozen=True)
class ShadeKey:
    """One entry of the tile map's key: a shade and the counts it stands for ("1–100")."""

    shade: int
    text: str


@dataclass(frozen=True)
class TileMap:
    """The 16 Länder's tiles (in reading order) and the key to the shades in use."""

    tiles: tuple[Tile, ...]
    key: tuple[ShadeKey, ...]


def bar_chart(bars: Sequence[Bar]) -> SeriesChart:
    """Horizontal bars, one per category: label, bar, value at its end.

    Raises:
        ValueError: for a negative value.
    """
    return _series(bars, columns=False)


def column_chart(bars: Sequence[Bar]) -> SeriesChart:
    """A time series (years or months, oldest first): vertical columns where the chart is
    wide enough for them (up to ``MAX_COLUMNS``), horizontal bars elsewhere.

    Raises:
        ValueError: for a negative value.
    """
    return _series(bars, columns=len(bars) <= MAX_COLUMNS)


def bar_length(value: int, scale: int) -> int:
    """``value`` in whole percent of ``scale``, rounded half up, and 1 at least for a value
    above 0 (which a plain rounding could draw as no bar at all).

    Raises:
        ValueError: for a negative value, a value above the scale, or a scale below 1.
    """
    if scale < 1 or not 0 <= value <= scale:
        raise ValueError(f"a length needs 0 <= value <= scale and scale >= 1: {value}, {scale}")
    if value == 0:
        return 0
    # Integer arithmetic: the same length for the same numbers on every machine.
    return max(1, (200 * value + scale) // (2 * scale))


def land_tile_grid(values: Mapping[str, int], labels: Mapping[str, str]) -> TileMap:
    """The 16 Länder as equal squares placed as in ``LANDER_TILES``, shaded by count.

    Each tile shows the Land's code in capitals and its count, so the shade is never the only
    clue; its tooltip gives the full name and the count. Counts above 0 fall into at most four
    ranges of equal width (a 1, 2 or 5 × 10^n step), shaded light to dark; 0 has the lightest
    shade of its own. The key lists the shades in use.

    Args:
        values: count per Land code (lower case, as in the codebook); a missing code counts 0.
        labels: the full, translated name per Land code; a missing name shows the code.

    Raises:
        ValueError: for a negative value, or a code in ``values`` or ``labels`` that is not
            one of the 16 Länder.
    """
    unknown = sorted((set(values) | set(labels)) - set(LANDER_TILES))
    if unknown:
        raise ValueError(f"unknown Land codes {unknown}; use {', '.join(LANDER_TILES)}")
    _check_values(values.values())
    counts = {code: values.get(code, 0) for code in LANDER_TILES}
    step, ranges = _shade_ranges(max(counts.values()))
    # The darkest shades are used when there are fewer ranges, so the top range is always dark.
    first_shade = 1 + MAX_SHADE_RANGES - ranges

    key = [ShadeKey(0, "0")]
    for index in range(ranges):
        low, high = index * step + 1, (index + 1) * step
        key.append(ShadeKey(first_shade + index, str(low) if low == high else f"{low}–{high}"))
    tiles = []
    for code, (column, row) in LANDER_TILES.items():
        count = counts[code]
        shade = 0 if count == 0 else first_shade + min(_ceil_div(count, step), ranges) - 1
        name = labels.get(code, code.upper())
        tiles.append(
            Tile(code, code.upper(), f"{name}: {count}", count, column + 1, row + 1, shade)
        )
    return TileMap(tuple(tiles), tuple(key))


def _series(bars: Sequence[Bar], *, columns: bool) -> SeriesChart:
    _check_values(bar.value for bar in bars)
    largest = max((bar.value for bar in bars), default=0)
    scale = _scale(largest)
    drawn = tuple(
        DrawnBar(
            bar.key,
            bar.drawn_label,
            f"{bar.full_label}: {bar.value}",
            bar.value,
            bar_length(bar.value, scale),
        )
        for bar in bars
    )
    digits = min(len(str(largest)), MAX_DIGITS)
    longest = max((len(text) for bar in drawn for text in (bar.label, str(bar.value))), default=1)
    upright = not columns or len(drawn) * (longest + 1) <= UPRIGHT_CHARACTERS
    return SeriesChart(drawn, scale, digits, columns, upright)


def _check_values(values: Iterable[int]) -> None:
    for value in values:
        if value < 0:
            raise ValueError(f"a count cannot be negative, got {value}")


def _nice_step(at_least: int) -> int:
    """The smallest whole 1, 2 or 5 × 10^n that is at least ``at_least``."""
    magnitude = 1
    while magnitude * 10 <= at_least:
        magnitude *= 10
    for multiple in (1, 2, 5):
        if multiple * magnitude >= at_least:
            return multiple * magnitude
    return 10 * magnitude


def _ceil_div(dividend: int, divisor: int) -> int:
    # Whole numbers only: a float would round a count of 17 digits and more.
    return -(-dividend // divisor)


def _scale(largest: int) -> int:
    """The first multiple of a nice step at or above ``largest``, with at most
    ``MAX_TICK_INTERVALS`` steps; 1 without any count above 0."""
    if largest <= 0:
        return 1
    step = _nice_step(_ceil_div(largest, MAX_TICK_INTERVALS))
    return step * _ceil_div(largest, step)


def _shade_ranges(largest: int) -> tuple[int, int]:
    """The width of each shaded range of counts and how many ranges reach ``largest``."""
    if largest <= 0:
        return 1, 0
    step = _nice_step(_ceil_div(largest, MAX_SHADE_RANGES))
    return step, _ceil_div(largest, step)
