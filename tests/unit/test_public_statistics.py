"""Linked public tables: they share only published numbers, and each is protected on its own."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from app.research.disclosure import TOTAL
from app.research.public import protect_linked_tables
from tests.unit.test_disclosure import check_protected, deducible_cells

YEARS = ("2023", "2024", "2025")
MONTHS = ("01", "02", "03")
TYPES = ("threat", "verbal_abuse")
LANDS = ("be", "hb", "nw")
INCIDENT = st.tuples(
    st.sampled_from(YEARS), st.sampled_from(MONTHS), st.sampled_from(TYPES),
    st.sampled_from(LANDS),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(incidents=st.lists(INCIDENT, max_size=40), k=st.sampled_from([2, 3, 5]))
def test_linked_tables_publish_every_shared_total_and_hide_every_small_cell(
    incidents: list[tuple[str, str, str, str]], k: int
) -> None:
    tables = [
        dict(Counter((year, month) for year, month, _t, _l in incidents)),
        dict(Counter((year, kind) for year, _m, kind, _l in incidents)),
        dict(Counter((year, land) for year, _m, _t, land in incidents)),
    ]
    years, hidden, protected = protect_linked_tables(YEARS, tables, (MONTHS, TYPES, LANDS), k)
    assert set(years) | set(hidden) == set(YEARS)
    assert not set(years) & set(hidden)
    shown = [year for year, *_rest in incidents if year in years]
    for counts, columns, table in zip(tables, (MONTHS, TYPES, LANDS), protected, strict=True):
        visible = {key: n for key, n in counts.items() if key[0] in years}
        truth = check_protected(table, visible, years, columns)
        assert deducible_cells(table, truth) == []
        # The shared numbers are published, the same in every table.
        assert table.value(TOTAL) == len(shown)
        for year in years:
            assert table.value(year) == shown.count(year)
    year_totals = Counter(year for year, *_rest in incidents)
    assert all(year_totals[year] for year in hidden)  # a year without incidents is a shown 0
