"""Small-cell suppression: a published table neither shows nor gives away a count of 1 to k-1.

A count below ``k`` (5 unless the caller says otherwise) may point to people: three reported
incidents in one small town in one month are three people that neighbours may know. Such cells
are blanked (primary suppression). Blanking them is not enough, because every row and column of
a published table adds up to a published total: a single blank in a line is its total minus the
rest. So more cells are blanked (complementary suppression) until no blank can be worked out
from the published values, the additivity of every line and the fact that no count is negative.

The model behind it: the blanks of the (R+1)×(C+1) array (the table with its margins) are edges
of a bipartite graph between its row lines and its column lines. Over the reals a blank is fixed
by the published values exactly when it is a bridge of that graph (lies on no cycle); a blank on
a cycle can move by ±1 along the cycle with every line still adding up. Complements are cells
with a count of at least 1, so a move down never goes below zero: every blank keeps at least
two possible values among all nonnegative integer tables consistent with the publication. A
series (a one-dimensional table) is a single line, so there the rule is simply: no line has
exactly one blank.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

TOTAL: Final = "_total"
PRIMARY: Final = "primary"
COMPLEMENTARY: Final = "complementary"

Key = tuple[str, str]
# A position in the array with margins: (row index, column index); the last index is TOTAL.
Position = tuple[int, int]


@dataclass(frozen=True)
class ProtectedTable:
    """A table ready for publication: every cell and margin, the suppressed ones as None.

    Attributes:
        rows: the row categories in the caller's order (without TOTAL).
        columns: the column categories in the caller's order; empty for a one-dimensional
            table (a series such as counts per year), whose cells are keyed ``(row, TOTAL)``.
        k: the smallest count that may be published (counts of 1 to k-1 are suppressed).
        values: every cell of the table with its margins — ``(row, column)``, ``(row, TOTAL)``,
            ``(TOTAL, column)`` and ``(TOTAL, TOTAL)`` — in table order; None where suppressed.
        suppressed: for each suppressed key, why: PRIMARY (a count of 1 to k-1) or
            COMPLEMENTARY (blanked so that a primary cell cannot be worked out).
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    k: int
    values: Mapping[Key, int | None]
    suppressed: Mapping[Key, str]

    def value(self, row: str, column: str = TOTAL) -> int | None:
        """The published value of a cell, or None if it is suppressed.

        Raises:
            KeyError: for a row or column that is not in the table.
        """
        return self.values[(row, column)]


def protect_table(
    counts: Mapping[tuple[str, str], int], rows: Sequence[str], columns: Sequence[str], k: int = 5
) -> ProtectedTable:
    """The table of ``counts`` with its margins, small cells and their complements suppressed.

    Guarantees:
        - No published value (cell or margin) is in 1..k-1; every published value is the true
          count or sum. Zeros are published: a zero is nobody, not a small group of people, and
          blanking zeros would hide that a category had no reports at all.
        - No suppressed value can be worked out exactly from the published values, the line sums
          and nonnegativity: each one takes at least two values among the nonnegative integer
          tables consistent with what is published.
        - The grand total is published whenever it is at least k. Zeros are never blanked, not
          even as complements: a blanked zero sits at its bound and can help pin a cell down.
        - Each complement is the cheapest way to protect a cell: as few margins as possible,
          then the smallest counts; in a series, the smallest nonzero other cell.
        - The same input gives the same output, whatever the order of ``counts``.

    Args:
        counts: the interior cells keyed ``(row, column)``, or ``(row, TOTAL)`` when ``columns``
            is empty; a missing key counts 0. Margins are computed here, never taken from
            the caller.
        rows: the row categories in display order.
        columns: the column categories in display order; empty for a one-dimensional table.
        k: the smallest count that may be shown; 1 suppresses nothing.

    Raises:
        ValueError: for k below 1, a negative count, a key whose row or column is not one of
            the given categories, or categories that repeat or are named TOTAL.
        TypeError: for a count that is not an integer.
    """
    row_names = tuple(rows)
    column_names = tuple(columns)
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    _check_categories(row_names, "row")
    _check_categories(column_names, "column")
    grid = _grid_with_margins(counts, row_names, column_names)
    if column_names:
        reasons = _protect_grid(grid, k)
    else:
        reasons = {(i, 0): reason for i, reason in _protect_line([r[0] for r in grid], k).items()}
    row_keys = (*row_names, TOTAL)
    column_keys = (*column_names, TOTAL)
    values: dict[Key, int | None] = {}
    suppressed: dict[Key, str] = {}
    for i, row in enumerate(row_keys):
        for j, column in enumerate(column_keys):
            reason = reasons.get((i, j))
            values[(row, column)] = None if reason else grid[i][j]
            if reason:
                suppressed[(row, column)] = reason
    return ProtectedTable(
        rows=row_names,
        columns=column_names,
        k=k,
        values=MappingProxyType(values),
        suppressed=MappingProxyType(suppressed),
    )


def _check_categories(names: tuple[str, ...], kind: str) -> None:
    if len(set(names)) != len(names):
        raise ValueError(f"the {kind} categories repeat: {list(names)}")
    if TOTAL in names:
        raise ValueError(f"{TOTAL!r} names the margins and cannot be a {kind} category")


def _grid_with_margins(
    counts: Mapping[tuple[str, str], int], rows: tuple[str, ...], columns: tuple[str, ...]
) -> list[list[int]]:
    """The (R+1)×(C+1) array of counts with row totals, column totals and the grand total last.

    A one-dimensional table is the R+1 × 1 array of its cells and total.
    """
    row_index = {name: i for i, name in enumerate(rows)}
    column_index = {name: j for j, name in enumerate(columns)} if columns else {TOTAL: 0}
    width = len(columns)  # interior columns; the margin column is last
    grid = [[0] * (width + 1) for _ in range(len(rows) + 1)]
    for key, count in counts.items():
        row, column = key
        if row not in row_index or column not in column_index:
            raise ValueError(f"unknown cell {key!r}: not one of the given rows and columns")
        if not isinstance(count, int):
            raise TypeError(f"the count of {key!r} is not an integer: {count!r}")
        if count < 0:
            raise ValueError(f"the count of {key!r} is negative: {count}")
        grid[row_index[row]][column_index[column]] = count
    if columns:
        for line in grid[:-1]:
            line[-1] = sum(line[:-1])
    for j in range(width + 1):
        grid[-1][j] = sum(line[j] for line in grid[:-1])
    return grid


def _protect_line(line: list[int], k: int) -> dict[int, str]:
    """Suppression for one line whose last member is the total of the others.

    A single line can only give a blank away if it is the line's one blank; so a lone blank
    gets a partner: the smallest nonzero other cell (never the total). One exists: a lone blank
    is a cell below k with a total of at least k — had the total been below k, every nonzero
    cell would be too, and blank.
    """
    reasons = {i: PRIMARY for i, count in enumerate(line) if 0 < count < k}
    if len(reasons) == 1:
        cells = [i for i in range(len(line) - 1) if i not in reasons and line[i] > 0]
        reasons[min(cells, key=lambda i: (line[i], i))] = COMPLEMENTARY
    return reasons


def _protect_grid(grid: list[list[int]], k: int) -> dict[Position, str]:
    """Primary and complementary suppression for a two-dimensional array with margins.

    Each bridge of the graph of blanks gets the cheapest path of further cells that closes a
    cycle through it. Adding cells only ever removes bridges and every added cell lies on the
    cycle it closes, so one pass over the bridges leaves none; the loop checks that anyway.
    """
    blanks = _Blanks(grid)
    for i, line in enumerate(grid):
        for j, count in enumerate(line):
            if 0 < count < k:
                blanks.add((i, j), PRIMARY)
    while bridges := _bridges(blanks.neighbours, blanks.height):
        for i, j in bridges:
            if _connected_without_edge(blanks.neighbours, i, blanks.height + j):
                continue  # an earlier cycle of this pass already runs through it
            for cell in blanks.closing_path((i, j)):
                blanks.add(cell, COMPLEMENTARY)
    return blanks.reasons


def _bridges(neighbours: list[set[int]], height: int) -> list[Position]:
    """The bridges of the graph of blanks as array positions, in position order.

    Nodes 0..height-1 are row lines, the rest column lines. Tarjan's lowlink search, kept
    iterative so a long chain of blanks cannot exhaust Python's recursion limit.
    """
    count = len(neighbours)
    order = [-1] * count
    low = [0] * count
    found: list[Position] = []
    clock = 0
    for start in range(count):
        if order[start] != -1 or not neighbours[start]:
            continue
        order[start] = low[start] = clock
        clock += 1
        stack = [(start, -1, iter(sorted(neighbours[start])))]
        while stack:
            node, parent, pending = stack[-1]
            for other in pending:
                if other == parent:
                    continue  # no parallel edges: one cell per pair of lines
                if order[other] == -1:
                    order[other] = low[other] = clock
                    clock += 1
                    stack.append((other, node, iter(sorted(neighbours[other]))))
                    break
                low[node] = min(low[node], order[other])
            else:
                stack.pop()
                if stack:
                    above = stack[-1][0]
                    low[above] = min(low[above], low[node])
                    if low[node] > order[above]:
                        row, column = sorted((above, node))
                        found.append((row, column - height))
    return sorted(found)


def _connected_without_edge(neighbours: list[set[int]], start: int, goal: int) -> bool:
    """Whether the graph of blanks joins ``start`` and ``goal`` other than by their own edge."""
    seen = {start}
    frontier = [other for other in neighbours[start] if other != goal]
    seen.update(frontier)
    while frontier:
        node = frontier.pop()
        for other in neighbours[node]:
            if other == goal:
                return True
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return False


class _Blanks:
    """The blanks of an array with margins, as a graph between its row and column lines.

    Nodes 0..height-1 are the row lines (the total row last), the rest the column lines.
    ``links[node][other]`` is what blanking the cell between two lines costs — 0 if it is
    blank, None if it may never be a complement — kept in both directions so that a search
    reads one list per node.
    """

    def __init__(self, grid: list[list[int]]) -> None:
        self.height, self.width = len(grid), len(grid[0])
        self.reasons: dict[Position, str] = {}
        self.neighbours: list[set[int]] = [set() for _ in range(self.height + self.width)]
        nodes = self.height + self.width
        largest = max(max(line) for line in grid)
        # Integer costs that compare like (margin?, count, cells): a simple path has fewer
        # than `nodes` cells, so the lower parts of a path's sum never carry into the next.
        self._per_count = nodes
        self._per_margin = nodes * (nodes * largest + 1)
        self.links: list[list[int | None]] = [
            [self._cost(grid, i, j) for j in range(self.width)] for i in range(self.height)
        ]
        self.links += [[line[j] for line in self.links] for j in range(self.width)]

    def _cost(self, grid: list[list[int]], i: int, j: int) -> int | None:
        count = grid[i][j]
        if count == 0 or (i == self.height - 1 and j == self.width - 1):
            return None
        margin = i == self.height - 1 or j == self.width - 1
        return margin * self._per_margin + count * self._per_count + 1

    def add(self, cell: Position, reason: str) -> None:
        """Blank ``cell``: it joins the graph and costs nothing from now on."""
        i, j = cell
        self.reasons[cell] = reason
        self.neighbours[i].add(self.height + j)
        self.neighbours[self.height + j].add(i)
        self.links[i][j] = self.links[self.height + j][i] = 0

    def closing_path(self, bridge: Position) -> list[Position]:
        """The published cells to blank so that a cycle of blanks runs through ``bridge``.

        A cheapest path (Dijkstra) between the bridge's two lines in the complete bipartite
        graph of all cells, the bridge left out. Blanks cost nothing. Zeros and the grand total
        are never complements (the grand total is blank only if itself below k); any other
        published cell costs, in this order of importance: being a margin, its count, and one
        for the cell — so interior cells win over margins and small counts over large ones.
        Ties go to the lower line index, so the choice depends on no dict or set order.

        Why no zeros: a blanked zero sits at its lower bound, so a cycle through two of them
        can be stuck — the property tests found a zero row whose two blanked zeros were pinned
        by its published row total of 0. With nonzero cells only, every blank can move by one
        both ways along its cycle. Such a path always exists: a blank is below k, so with a
        grand total of at least k some other count is nonzero, and the nonzero cells of any two
        interior counts form a cycle that avoids the grand total (a rectangle, or a hexagon
        through the margins).
        """
        height, links = self.height, self.links
        source, target = bridge[0], height + bridge[1]
        links[source][bridge[1]] = links[target][bridge[0]] = None
        unreached = self._per_margin * len(links) ** 2  # more than any path costs
        distance = [unreached] * len(links)
        previous = [-1] * len(links)
        distance[source] = 0
        queue = [(0, source)]
        # A nonzero path exists (see above), so the target is popped before the queue runs dry.
        while (entry := heapq.heappop(queue))[1] != target:
            reached, node = entry
            if reached > distance[node]:
                continue  # a stale entry: the node was reached more cheaply since
            offset = height if node < height else 0
            for index, weight in enumerate(links[node]):
                if weight is not None and reached + weight < distance[offset + index]:
                    distance[offset + index] = reached + weight
                    previous[offset + index] = node
                    heapq.heappush(queue, (reached + weight, offset + index))
        links[source][bridge[1]] = links[target][bridge[0]] = 0
        path: list[Position] = []
        node = target
        while node != source:
            before = previous[node]
            i, j = (before, node - height) if before < height else (node, before - height)
            if (i, j) not in self.reasons:
                path.append((i, j))
            node = before
        return sorted(path)
