"""The statistics page explains the perturbation with the numbers of the configured table."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ProductionConfig as Config
from app.research.perturbation import PerturbationParameters, perturbation_table

CONTENT = Path(__file__).resolve().parents[3] / "app" / "pages" / "content"
PARAMETERS = PerturbationParameters(
    k=Config.STATISTICS_MIN_CELL,
    max_deviation=Config.STATISTICS_MAX_DEVIATION,
    variance=Config.STATISTICS_NOISE_VARIANCE,
)
# What each language's text says, with the facts filled in.
CLAIMS = {
    "de": [
        "Zahlen ab {steady} weichen höchstens um {deviation} nach oben oder unten ab",
        "Zahlen von 1 bis {below} zeigen wir nie",
        "Eine wahre 1 bis {below} erscheint als 0 oder als {k} bis {small_top}",
        "Eine gezeigte 0 kann also für 0 bis {zero_top} Vorfälle stehen",
        "eine gezeigte {k} für 1 bis {k_top}",
    ],
    "en": [
        "Numbers of {steady} or more move by at most {deviation} up or down",
        "We never show numbers from 1 to {below}",
        "A true 1 to {below} appears as 0 or as {k} to {small_top}",
        "A 0 shown may therefore stand for 0 to {zero_top} incidents",
        "a {k} shown for 1 to {k_top}",
    ],
}


def facts() -> dict[str, int]:
    table = perturbation_table(PARAMETERS)
    k, deviation = PARAMETERS.k, PARAMETERS.max_deviation
    came_from: dict[int, set[int]] = {}
    for count in range(1, 100):
        for value in table.distribution(count):
            came_from.setdefault(value, set()).add(count)
    small = {value for count in range(1, k) for value in table.distribution(count)}
    assert came_from[0] == set(range(1, max(came_from[0]) + 1))  # 1..top, no gaps
    assert came_from[k] == set(range(1, max(came_from[k]) + 1))
    return {
        "k": k,
        "below": k - 1,
        "deviation": deviation,
        "steady": k + deviation,
        "small_top": max(small),
        "zero_top": max(came_from[0]),
        "k_top": max(came_from[k]),
    }


@pytest.mark.parametrize("language", sorted(CLAIMS))
def test_the_method_text_states_the_tables_numbers(language: str) -> None:
    text = " ".join((CONTENT / language / "statistics.md").read_text(encoding="utf-8").split())
    known = facts()
    for claim in CLAIMS[language]:
        assert claim.format(**known) in text
