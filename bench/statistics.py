"""Statistics at a million incidents (SQLite): counting and protecting the public page's tables,
research tables and the API, against a bare Flask endpoint measured in the same run.

The data comes from ``flask demo generate`` (app/research/demo.py): a million coded incidents
over three years, about 80 % of them verified.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
import time
from collections.abc import Callable
from functools import partial

import flask_migrate
from flask import Flask
from sqlalchemy import text

from app import create_app
from app.api.tokens import create_token
from app.extensions import db
from app.research.demo import generate_demo_incidents
from app.research.disclosure import protect_table
from app.research.public import CACHE_KEY, count_public_statistics
from app.research.statistics import build_table, parse_query
from bench.harness import bare_client, per_call_seconds, report

INCIDENTS = 1_000_000
TODAY = dt.date(2026, 11, 26)
K = 5
TABLES = {
    "research: years (1-D)": {"rows": "period"},
    "research: Land × type": {"rows": "land", "columns": "type"},
    "research: Land × month": {"rows": "land", "columns": "period", "period": "month"},
    "research: town × quarter": {"rows": "town", "columns": "period", "period": "quarter"},
    "research: type (every type) × Land": {"rows": "type", "columns": "land", "types": "every"},
    "research: gender × age, Berlin, 2025": {"rows": "gender", "columns": "age_band",
                                              "land": "be", "from": "2025-01", "to": "2025-12"},
}  # fmt: skip


def build(app: Flask) -> float:
    started = time.perf_counter()
    with app.app_context():
        flask_migrate.upgrade()
        generate_demo_incidents(INCIDENTS, today=TODAY, seed=1)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"ENV_NAME": "testing", "INSTANCE_PATH": instance,
                          "SECRET_KEY": secrets.token_hex()})  # fmt: skip
        seconds = build(app)
        print(f"built {INCIDENTS:,} demo incidents in {seconds:.0f} s (flask demo generate)")
        bare = bare_client()
        baseline = per_call_seconds(lambda: bare.get("/"))
        slow = partial(per_call_seconds, repeat=3, number=2)
        results: list[tuple[str, float]] = []
        with app.test_request_context():
            results.append(("public tables, counted and protected",
                            slow(partial(count_public_statistics, k=K, today=TODAY))))  # fmt: skip
            for name, parameters in TABLES.items():
                query = parse_query(parameters)
                results.append((name, slow(partial(build_table, query, k=K, today=TODAY))))
            big = {(f"t{i}", f"m{j}"): (i * 7 + j * 3) % 11 for i in range(200) for j in range(36)}
            rows, columns = [f"t{i}" for i in range(200)], [f"m{j}" for j in range(36)]
            results.append(("protect_table alone, 200 × 36 with many small cells",
                            slow(partial(protect_table, big, rows, columns, K))))  # fmt: skip
            _token, token = create_token("Bench", ["statistics"], today=TODAY)
            db.session.commit()
        client = app.test_client()

        def fresh_public_page() -> object:
            app.extensions.pop(CACHE_KEY, None)
            return client.get("/de/statistics")

        checks: list[tuple[str, Callable[[], object]]] = [
            ("GET /de/statistics, counted afresh", fresh_public_page),
            ("GET /de/statistics, unchanged data (cached)",
             partial(client.get, "/de/statistics")),
            ("GET /api/v1/statistics Land × type, CSV",
             partial(client.get, "/api/v1/statistics?rows=land&columns=type&format=csv",
                     headers={"Authorization": f"Bearer {token}"})),
        ]  # fmt: skip
        for name, call in checks:
            response = call()
            assert getattr(response, "status_code", 200) == 200, name
            fast = "cached" in name
            timed = per_call_seconds(call, repeat=5, number=20) if fast else slow(call)
            results.append((name, timed))
        report(results, baseline)


if __name__ == "__main__":
    main()
