"""The moderation queue at a million incidents (SQLite): the first page and a filtered page,
against a bare Flask endpoint in the same run, and the query plan that shows the index is used.

The incidents are coded rows only (no reports: ``incident.report_id`` may be NULL), spread like
real ones: Länder by population, incident types by how often they are reported, and states by
age (old cases closed, the newest received or in review).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import flask_migrate
from flask import Flask
from sqlalchemy import insert, select, text

from app import create_app
from app.auth.staff_sessions import open_staff_session
from app.codebook import current_codebook
from app.crypto.keyring import initialise_keys
from app.extensions import db
from app.models import Incident, User
from app.models.incident import CLOSED, IN_REVIEW, NOT_VERIFIABLE, OUT_OF_SCOPE, RECEIVED, VERIFIED
from app.models.user import MODERATOR
from app.moderation import case_views, cases
from bench.harness import bare_client, per_call_seconds, report
from tests.staff import make_staff

INCIDENTS = 1_000_000
CHUNK = 50_000
PAGE = 50
FIRST_DAY = dt.date(2021, 1, 1)
DAYS = 6 * 365
# Share of the population, in per mille (Destatis 2023, rounded).
LAND_WEIGHTS = {"nw": 215, "by": 160, "bw": 135, "ni": 96, "he": 76, "sn": 49, "rp": 50,
                "be": 45, "sh": 35, "bb": 30, "st": 26, "th": 25, "hh": 22, "mv": 19,
                "sl": 12, "hb": 8}  # fmt: skip
# Most reports are of abuse and hostile behaviour; violence and arson are rare.
TYPE_WEIGHTS = {"verbal_abuse": 28, "insult_online": 14, "hurtful_behaviour": 12, "threat": 9,
                "discrimination_goods": 8, "discrimination_work": 6,
                "discrimination_authorities": 4, "discrimination_housing": 4, "assault": 5,
                "property_damage": 3, "desecration": 2, "other": 3, "mass_mailing": 1,
                "arson": 0.3, "extreme_violence": 0.2}  # fmt: skip


def _states(rng: random.Random, position: float) -> str:
    """The state of the incident at ``position`` (0 oldest, 1 newest) of the whole history."""
    if position > 0.99:
        return RECEIVED if rng.random() < 0.7 else IN_REVIEW
    if position > 0.97:
        return rng.choices((IN_REVIEW, VERIFIED, NOT_VERIFIABLE, OUT_OF_SCOPE),
                           (40, 30, 15, 15))[0]  # fmt: skip
    return rng.choices((CLOSED, VERIFIED, NOT_VERIFIABLE, OUT_OF_SCOPE), (95, 3, 1, 1))[0]


Rows = list[dict[str, Any]]


def incident_rows(count: int, moderators: list[int], seed: int = 7) -> Iterator[Rows]:
    """Chunks of ``CHUNK`` incident rows, oldest first (ids grow with the date)."""
    rng = random.Random(seed)
    codebook = current_codebook()
    types = list(TYPE_WEIGHTS)
    places = codebook.question("place_type").codes
    lands = list(LAND_WEIGHTS)
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        chosen_lands = rng.choices(lands, [LAND_WEIGHTS[land] for land in lands], k=size)
        chosen_types = rng.choices(types, [TYPE_WEIGHTS[code] for code in types], k=size)
        chosen_places = rng.choices(places, k=size)
        rows = []
        for offset in range(size):
            position = (start + offset) / count
            day = FIRST_DAY + dt.timedelta(days=int(position * DAYS))
            state = _states(rng, position)
            place = chosen_places[offset]
            assigned = (rng.choice(moderators) if state in (RECEIVED, IN_REVIEW)
                        and rng.random() < 0.3 else None)  # fmt: skip
            rows.append({
                "state": state, "codebook_version": codebook.version, "source": "form",
                "reported_on": day, "role": "affected", "date_kind": "exact",
                "date_from": day, "date_to": day, "land": chosen_lands[offset],
                "place_type": place, "online": place == "online",
                "platform": "facebook" if place == "online" else None,
                "most_severe_type": chosen_types[offset], "target": "person",
                "consent_publication": False, "assigned_to": assigned,
                "closed_on": day + dt.timedelta(days=30) if state == CLOSED else None,
            })  # fmt: skip
        yield rows


def build(app: Flask) -> tuple[int, float]:
    """Migrate, create three moderators, insert ``INCIDENTS`` rows; returns (rows, seconds)."""
    started = time.perf_counter()
    with app.app_context():
        flask_migrate.upgrade()
        recovery = initialise_keys(FIRST_DAY)
        db.session.commit()
        emails = [make_staff(MODERATOR, recovery).email for _ in range(3)]
        moderators = list(db.session.scalars(select(User.id).where(User.email.in_(emails))))
        # A throw-away database: no need to survive a crash while it is filled.
        db.session.execute(text("PRAGMA synchronous=OFF"))
        for rows in incident_rows(INCIDENTS, moderators):
            db.session.execute(insert(Incident), rows)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return INCIDENTS, time.perf_counter() - started


def query_plan(query: Any) -> list[str]:
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    return [str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]


def logged_in_client(app: Flask) -> Any:
    """A moderator's browser: the staff session as the login writes it (no keys needed here)."""
    with app.app_context():
        moderator = db.session.scalars(select(User).where(User.role == MODERATOR)).first()
        assert moderator is not None
        token = open_staff_session(
            moderator, now=dt.datetime.now(dt.UTC), lifetime=dt.timedelta(hours=12)
        )
        db.session.commit()
        staff = {"token": token, "keys": None}
    client = app.test_client()
    with client.session_transaction() as session:
        session["staff"] = staff
    return client


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"ENV_NAME": "testing", "INSTANCE_PATH": instance,
                          "SECRET_KEY": secrets.token_hex()})  # fmt: skip
        rows, seconds = build(app)
        print(f"built {rows:,} incidents in {seconds:.0f} s (SQLite, bulk insert in chunks "
              f"of {CHUNK:,})")  # fmt: skip
        bare = bare_client()
        baseline = per_call_seconds(lambda: bare.get("/"))
        received = cases.QueueFilters(states=(RECEIVED,))
        open_cases = cases.QueueFilters()  # received and in review
        saxony_abuse = cases.QueueFilters(states=(), land="sn", incident_type="verbal_abuse")
        client = logged_in_client(app)
        with app.app_context():
            second_after = cases.queue_page(received, None, PAGE).next_after
            measurements: list[tuple[str, Callable[[], object]]] = [
                (f"first page, one state ({PAGE} rows)",
                 lambda: cases.queue_page(received, None, PAGE)),
                ("second page, one state (keyset)",
                 lambda: cases.queue_page(received, second_after, PAGE)),
                ("first page, open = received + in review",
                 lambda: cases.queue_page(open_cases, None, PAGE)),
                ("first page, Land + type, every state",
                 lambda: cases.queue_page(saxony_abuse, None, PAGE)),
                ("counts per state, exact (whole table)", cases.state_counts),
                ("counts per state, capped at 10,000",
                 partial(cases.state_counts, cap=case_views.COUNT_CAP)),
            ]  # fmt: skip
            results = [(name, per_call_seconds(call, repeat=5, number=20))
                       for name, call in measurements]  # fmt: skip
            first_page = (select(Incident.id).where(Incident.state == RECEIVED)
                          .order_by(Incident.id.desc()).limit(PAGE + 1))  # fmt: skip
            filtered = (select(Incident.id).where(Incident.land == "sn",
                        Incident.most_severe_type == "verbal_abuse")
                        .order_by(Incident.id.desc()).limit(PAGE + 1))  # fmt: skip
            plans = {"first page": query_plan(first_page), "Land + type": query_plan(filtered)}
        for path in ("/moderation/queue?state=received", "/moderation/queue",
                     "/moderation/queue?state=all&land=sn&type=verbal_abuse"):  # fmt: skip
            assert client.get(path).status_code == 200, path
            timed = per_call_seconds(partial(client.get, path), repeat=5, number=10)
            results.append((f"GET {path.removeprefix('/moderation')[:40]}", timed))
        report(results, baseline)
        for name, plan in plans.items():
            print(f"\nEXPLAIN QUERY PLAN, {name}:")
            for line in plan:
                print(f"  {line}")


if __name__ == "__main__":
    main()
