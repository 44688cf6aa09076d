"""Timing helpers: each measurement is compared with a bare Flask endpoint timed in the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient


def bare_client() -> FlaskClient:
    """The yardstick: a Flask app with one route returning a short string."""
    bare = Flask("bare")

    @bare.get("/")
    def index() -> str:
        return "ok"

    return bare.test_client()


def per_call_seconds(call: Callable[[], object], repeat: int = 7, number: int = 200) -> float:
    """Median seconds per call over ``repeat`` rounds of ``number`` calls (after a warm-up)."""
    for _ in range(20):
        call()
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            call()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds)


def report(rows: list[tuple[str, float]], baseline: float) -> None:
    print(f"{'measurement':<44} {'µs/call':>10} {'× bare Flask':>13}")
    print(f"{'bare Flask endpoint':<44} {baseline * 1e6:>10.1f} {1.0:>13.2f}")
    for name, seconds in rows:
        print(f"{name:<44} {seconds * 1e6:>10.1f} {seconds / baseline:>13.2f}")
