"""Statistics at a million incidents, on SQLite and on PostgreSQL: the public page, research
tables and the API read from the pre-aggregated counts, against a bare Flask endpoint measured in
the same run, in milliseconds and against the targets (public page < 50 ms, research and API
tables < 300 ms); counting from the incidents, as before the counts, for comparison; and what
keeping the counts current adds to a moderator's change.

The data comes from ``flask demo generate`` (app/demo/__init__.py): a million coded incidents
over three years, about 80 % of them verified. PostgreSQL is started from the server binaries
on PATH, as the tests start it (tests/postgres.py).
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import flask_migrate
from flask import Flask
from sqlalchemy import func, select, text

from app import create_app
from app.api.tokens import create_token
from app.crypto.keyring import initialise_keys
from app.demo import generate_demo_incidents
from app.extensions import db
from app.models import Incident, StatisticsCount, User
from app.models.incident import IN_REVIEW
from app.models.user import MODERATOR
from app.moderation import cases
from app.research.counts import rebuild_statistics_counts, suspend_statistics_counts
from app.research.disclosure import Cell, protect_table, statistics_perturbation
from app.research.public import count_public_statistics
from app.research.statistics import build_table, count_cells, parse_query
from bench.harness import bare_client, per_call_seconds
from tests.postgres import PostgresUnavailable, running_postgres
from tests.staff import make_staff

INCIDENTS = 1_000_000
TODAY = dt.date(2026, 11, 26)
PUBLIC_TARGET, TABLE_TARGET = 0.050, 0.300
TABLES = {
    "research: years (1-D)": {"rows": "period"},
    "research: Land × type": {"rows": "land", "columns": "type"},
    "research: Land × month": {"rows": "land", "columns": "period", "period": "month"},
    "research: town × quarter": {"rows": "town", "columns": "period", "period": "quarter"},
    "research: type (every type) × Land": {"rows": "type", "columns": "land", "types": "every"},
    "research: gender × age, Berlin, 2025": {"rows": "gender", "columns": "age_band",
                                              "land": "be", "from": "2025-01", "to": "2025-12"},
    # Three dimensions (rows, columns, filters): the largest groupings below the full one.
    "research: town × place, women": {"rows": "town", "columns": "place_type",
                                      "gender": "woman"},
    "research: every type × town, age 18-29": {"rows": "type", "columns": "town",
                                               "types": "every", "age_band": "age_18_29"},
    # More dimensions: the full grouping (523,485 and 725,756 rows).
    "research: town × type, 4 filters (full)": {
        "rows": "town", "columns": "type", "verification": "verified,not_verifiable",
        "target": "person", "gender": "woman,man", "age_band": "age_18_29,age_30_44"},
    "research: every type × town × age, place (full)": {
        "rows": "town", "columns": "age_band", "types": "every",
        "place_type": "street,public_transport"},
}  # fmt: skip
API_TABLE = "/api/v1/statistics?rows=land&columns=type&format=csv"


@contextmanager
def database(name: str) -> Iterator[str | None]:
    """An empty database of each kind; None when PostgreSQL cannot be started here."""
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/meldeportal.sqlite3"
        return
    try:
        with running_postgres() as server:
            yield server.url(server.create_database())
    except PostgresUnavailable as error:
        print(f"PostgreSQL skipped: {error}")
        yield None


def build(app: Flask) -> dict[str, Any]:
    """Migrate, generate the demo incidents (counts suspended, then rebuilt), and rebuild the
    counts once more on their own to time it."""
    facts: dict[str, Any] = {}
    with app.app_context():
        flask_migrate.upgrade()
        started = time.perf_counter()
        generate_demo_incidents(INCIDENTS, today=TODAY, seed=1)
        facts["demo_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        facts["cells"] = rebuild_statistics_counts()
        db.session.commit()
        facts["rebuild_seconds"] = time.perf_counter() - started
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        facts["largest"] = db.session.execute(
            select(StatisticsCount.grouping_id, func.count())
            .group_by(StatisticsCount.grouping_id)
            .order_by(func.count().desc())
            .limit(2)
        ).all()
    return facts


def few_calls(call: Callable[[], object], times: int = 3) -> float:
    """Median seconds of ``times`` calls after one warm-up: for calls that take seconds."""
    call()
    rounds = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        rounds.append(time.perf_counter() - started)
    return statistics.median(rounds)


def a_change(case_id: int, moderator_id: int, *, suspended: bool) -> None:
    """A moderator codes and verifies a case (flushed, so the triggers run), rolled back."""
    incident, moderator = db.session.get(Incident, case_id), db.session.get(User, moderator_id)
    assert incident is not None
    assert moderator is not None
    if suspended:
        suspend_statistics_counts()
    coding = {"incident_types": ["assault", "verbal_abuse"], "land": ["sn"], "town": ["leipzig"],
              "place_type": ["street"], "target": ["person"]}  # fmt: skip
    cases.code_case(incident, coding, by=moderator, today=TODAY)
    cases.verify_case(incident, by=moderator, today=TODAY)
    db.session.flush()
    db.session.rollback()


Result = tuple[str, float, float | None]  # name, seconds, target seconds


def measure(app: Flask) -> list[Result]:
    slow = partial(per_call_seconds, repeat=3, number=5)
    results: list[Result] = []
    with app.app_context():
        recovery = initialise_keys(TODAY)
        db.session.commit()
        make_staff(MODERATOR, recovery)
        moderator_id = db.session.scalars(select(User.id).where(User.role == MODERATOR)).one()
        case_id = db.session.scalars(
            select(Incident.id).where(Incident.state == IN_REVIEW).limit(1)
        ).one()
        _token, token = create_token("Bench", ["statistics"], today=TODAY)
        db.session.commit()
    with app.test_request_context():
        perturbation = statistics_perturbation(app)  # the configured one: k = 5, D = 2, V = 1
        results.append(("public tables, counted and protected",
                        per_call_seconds(partial(count_public_statistics, perturbation,
                                                 today=TODAY),
                                         repeat=5, number=20), PUBLIC_TARGET))  # fmt: skip
        results.append(("  the same from the incidents (before)",
                        few_calls(partial(count_public_statistics, perturbation, today=TODAY,
                                          from_incidents=True)), None))  # fmt: skip
        for name, parameters in TABLES.items():
            query = parse_query(parameters)
            results.append((name, slow(partial(build_table, query, today=TODAY)),
                            TABLE_TARGET))  # fmt: skip
        land_type = parse_query(TABLES["research: Land × type"])
        results.append(("  Land × type from the incidents (before)",
                        few_calls(partial(count_cells, land_type, from_incidents=True)),
                        None))  # fmt: skip
        # Counts 0..10, each incident's record key (i * 131 + j * 17) mod 256.
        big = {(f"t{i}", f"m{j}"): Cell(n, n * ((i * 131 + j * 17) % 256))
               for i in range(200) for j in range(36) for n in [(i * 7 + j * 3) % 11]}  # fmt: skip
        rows, columns = [f"t{i}" for i in range(200)], [f"m{j}" for j in range(36)]
        results.append(("protect_table alone, 200 × 36 with many small cells",
                        slow(partial(protect_table, big, rows, columns, perturbation)),
                        None))  # fmt: skip
        for suspended in (False, True):
            name = "a change: code and verify a case, flushed"
            name += " (counts suspended)" if suspended else " (counts kept current)"
            change = partial(a_change, case_id, moderator_id, suspended=suspended)
            results.append((name, per_call_seconds(change, repeat=5, number=10), None))
    client = app.test_client()
    for name, call, target in (
        ("GET /de/statistics (counted for each view)",
         partial(client.get, "/de/statistics"), PUBLIC_TARGET),
        ("GET /api/v1/statistics Land × type, CSV",
         partial(client.get, API_TABLE, headers={"Authorization": f"Bearer {token}"}),
         TABLE_TARGET),
    ):  # fmt: skip
        response: Any = call()
        assert response.status_code == 200, name
        results.append((name, per_call_seconds(call, repeat=5, number=20), target))
    return results


def report(title: str, results: list[Result], baseline: float) -> None:
    print(f"\n{title}")
    print(f"{'measurement':<52} {'ms':>9} {'× bare Flask':>13}  target")
    print(f"{'bare Flask endpoint':<52} {baseline * 1e3:>9.2f} {1.0:>13.2f}")
    for name, seconds, target in results:
        verdict = ""
        if target is not None:
            verdict = f"< {target * 1e3:.0f} ms " + ("met" if seconds < target else "MISSED")
        print(f"{name:<52} {seconds * 1e3:>9.1f} {seconds / baseline:>13.1f}  {verdict}")


def main() -> None:
    for name in ("sqlite", "postgresql"):
        with database(name) as url, tempfile.TemporaryDirectory() as instance:
            if url is None:
                continue
            app = create_app({"ENV_NAME": "testing", "INSTANCE_PATH": instance,
                              "SECRET_KEY": secrets.token_hex(), "DATABASE_URL": url})  # fmt: skip
            facts = build(app)
            print(f"{name}: {INCIDENTS:,} demo incidents in {facts['demo_seconds']:.0f} s"
                  f" (flask demo generate, counts rebuilt at the end); the counts alone rebuilt"
                  f" in {facts['rebuild_seconds']:.0f} s: {facts['cells']:,} cells, the largest"
                  f" groupings {facts['largest']}")  # fmt: skip
            baseline = per_call_seconds(partial(bare_client().get, "/"))
            report(f"Statistics at {INCIDENTS:,} incidents, {name}", measure(app), baseline)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


if __name__ == "__main__":
    main()
