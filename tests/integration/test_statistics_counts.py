"""The pre-aggregated counts on SQLite and PostgreSQL: always equal to a fresh count of the
incidents, whatever writes the rows, whoever reads them, and however many write at once."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from app import demo
from app.codebook import current_codebook
from app.crypto import keyring
from app.extensions import db
from app.intake.services import code_incident
from app.models import CaseCode, Incident, StatisticsCount, User
from app.models.incident import CLOSED, NOT_VERIFIABLE, OUT_OF_SCOPE, RECORD_KEYS, VERIFIED
from app.models.user import MODERATOR
from app.moderation import cases
from app.research.counts import (
    MONTH,
    counts_are_current,
    grouping_for,
    groupings,
    rebuild_statistics_counts,
    statistics_count_differences,
    suspend_statistics_counts,
)
from app.research.disclosure import TOTAL, statistics_perturbation
from app.research.public import count_public_statistics
from app.research.statistics import (
    DIMENSIONS,
    FILTERS,
    NOT_STATED,
    PERIOD,
    TYPE,
    StatisticsQuery,
    count_cells,
    count_table,
    count_tables,
    parse_query,
)
from tests.conftest import AppFactory
from tests.factories import TODAY, sample_answers, store_sample_report
from tests.integration.test_statistics_page import html_tables
from tests.staff import make_staff

RECEIPT_SECRET = b"r" * 32
TRIGGERS = {"incident_record_key_is_permanent", "statistics_count_incident_insert",
            "statistics_count_incident_update", "statistics_count_incident_delete",
            "statistics_count_case_code_insert", "statistics_count_case_code_update",
            "statistics_count_case_code_delete"}  # fmt: skip


@pytest.fixture
def moderator_id(db_app: Flask) -> int:
    with db_app.app_context():
        recovery = keyring.initialise_keys(TODAY)
        db.session.commit()
        email = make_staff(MODERATOR, recovery).email
        return int(db.session.scalars(select(User.id).where(User.email == email)).one())


def load_moderator(moderator_id: int) -> User:
    found = db.session.get(User, moderator_id)
    assert found is not None
    return found


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - test data, not a secret


def dialect() -> str:
    return db.session.get_bind().dialect.name


# --- Random case work through the real services ----------------------------------------------


def random_coding(rng: random.Random) -> dict[str, list[str]]:
    codebook = current_codebook()
    land = rng.choice(codebook.question("land").codes)
    towns = [answer.code for answer in codebook.question("town").answers
             if answer.land in (land, None)]  # fmt: skip
    place = rng.choice(codebook.question("place_type").codes)
    coding = {
        "incident_types": rng.sample(codebook.question("incident_types").codes, rng.randint(1, 3)),
        "land": [land],
        "place_type": [place],
        "target": [rng.choice(codebook.question("target").codes)],
    }
    if towns and rng.random() < 0.6:
        coding["town"] = [rng.choice(towns)]
    if place == "online":
        coding["platform"] = [rng.choice(codebook.question("platform").codes)]
    return coding


def new_case(rng: random.Random, day: dt.date | None = None) -> Incident:
    codebook = current_codebook()
    day = day or dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(1000))
    types = [code for code in codebook.question("incident_types").codes if code != "other"]
    stored = store_sample_report(
        RECEIPT_SECRET,
        land=rng.choice(codebook.question("land").codes),
        town=None,
        incident_date=day.isoformat(),
        incident_types=rng.sample(types, rng.randint(1, 2)),
        gender=rng.choice([*codebook.question("gender").codes, None]),
        age_band=rng.choice([*codebook.question("age_band").codes, None]),
    )
    db.session.flush()
    return stored.incident


def random_step(rng: random.Random, moderator: User) -> str:
    """One change, through a service where there is one, else as another writer would make it
    (a bulk statement, a foreign-key cascade, a rolled-back savepoint). Returns its name."""
    incidents = list(db.session.scalars(select(Incident).order_by(Incident.id)))
    if len(incidents) < 4 or rng.random() < 0.12:
        new_case(rng)
        return "report"
    incident = rng.choice(incidents)
    step = rng.choice(["code", "code", "decide", "decide", "close", "duplicate", "date",
                       "case codes", "delete", "savepoint", "recode twice"])  # fmt: skip
    try:
        if step == "code":
            cases.code_case(incident, random_coding(rng), by=moderator, today=TODAY)
        elif step == "decide":
            if incident.state == "received":
                cases.start_review(incident, by=moderator)
            wanted = rng.choice([VERIFIED, VERIFIED, NOT_VERIFIABLE, OUT_OF_SCOPE])
            if wanted == VERIFIED and incident.coded_on is None:
                cases.code_case(incident, random_coding(rng), by=moderator, today=TODAY)
            cases.move_case(incident, wanted, by=moderator, today=TODAY, retention_days=30)
        elif step == "close":
            cases.move_case(incident, CLOSED, by=moderator, today=TODAY, retention_days=30)
        elif step == "duplicate":
            original = rng.choice([*incidents, None])
            cases.link_duplicate(incident, original, by=moderator)
        elif step == "date":  # a bulk statement: no ORM event sees it
            day = dt.date(2023, 6, 1) + dt.timedelta(days=rng.randrange(1200))
            db.session.execute(
                update(Incident).where(Incident.id == incident.id).values(date_from=day)
            )
        elif step == "case codes":
            codes = delete(CaseCode).where(CaseCode.incident_id == incident.id,
                                           CaseCode.question == "incident_types")  # fmt: skip
            db.session.execute(codes)
        elif step == "delete":  # cascades to its codes and frees its duplicates
            db.session.execute(delete(Incident).where(Incident.id == incident.id))
        elif step == "savepoint":
            nested = db.session.begin_nested()
            cases.code_case(incident, random_coding(rng), by=moderator, today=TODAY)
            db.session.flush()
            nested.rollback()
        elif step == "recode twice":
            cases.code_case(incident, random_coding(rng), by=moderator, today=TODAY)
            db.session.flush()
            cases.code_case(incident, random_coding(rng), by=moderator, today=TODAY)
    except cases.CaseRefused:
        return f"{step} (refused)"
    db.session.flush()
    db.session.expire_all()  # rows a bulk statement changed are read again
    return step


def random_query(rng: random.Random) -> StatisticsQuery:
    codebook = current_codebook()
    rows = rng.choice(DIMENSIONS)
    parameters = {"rows": rows, "period": rng.choice(["year", "quarter", "month"]),
                  "types": rng.choice(["most_severe", "every"]),
                  "verification": rng.choice(["verified", "verified,not_verifiable",
                                              "not_verifiable"])}  # fmt: skip
    if rng.random() < 0.7:
        parameters["columns"] = rng.choice([name for name in DIMENSIONS if name != rows])
    for name in rng.sample(FILTERS, rng.randint(0, 2)):
        codes = [*codebook.question(
            {"type": "incident_types"}.get(name, name)).codes, NOT_STATED]  # fmt: skip
        if name not in ("gender", "age_band", "town"):
            codes.remove(NOT_STATED)
        parameters[name] = ",".join(rng.sample(codes, rng.randint(1, min(4, len(codes)))))
    if rng.random() < 0.4:  # ranges start on the grid of whole periods
        starts = {"year": [1], "quarter": [1, 4, 7, 10], "month": list(range(1, 13))}
        month = rng.choice(starts[parameters["period"]])
        parameters["from"] = f"{rng.randint(2023, 2025)}-{month:02d}"
    return parse_query(parameters)


def counted_now() -> int:
    found = db.session.scalar(
        select(func.sum(StatisticsCount.count)).where(StatisticsCount.count > 0)
    )
    return int(found or 0)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_case_work_keeps_every_cell_equal_to_a_fresh_count(
    db_app: Flask, moderator_id: int, seed: int
) -> None:
    rng, queries = seeded(seed), seeded(seed + 1000)  # the work does not depend on the queries
    with db_app.test_request_context():
        moderator = load_moderator(moderator_id)
        done: list[str] = []
        wanted = {"code", "decide", "duplicate", "date", "delete"}
        # At least 45 steps, and on until every kind of change has happened once and
        # something is counted (so that the comparisons compare something).
        for number in range(300):
            if number >= 45 and wanted <= set(done) and counted_now():
                break
            done.append(random_step(rng, moderator))
            assert statistics_count_differences() == [], done
            query = random_query(queries)
            assert count_cells(query) == count_cells(query, from_incidents=True), (done, query)
            if number % 10 == 9:
                db.session.commit()
        assert wanted <= set(done)
        assert counted_now()


# --- Every path that writes, the triggers themselves ----------------------------------------


def test_the_triggers_are_there_at_head(db_app: Flask) -> None:
    """A migration that rebuilds incident or case_code on SQLite (batch mode) drops them."""
    with db_app.app_context():
        if dialect() == "sqlite":
            found = set(db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = "
                                                "'trigger'")))  # fmt: skip
        else:
            found = set(db.session.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT "
                                                "tgisinternal")))  # fmt: skip
        assert found == TRIGGERS


def counted_case(moderator: User, rng: random.Random, **coding: list[str]) -> Incident:
    incident = new_case(rng)
    cases.start_review(incident, by=moderator)
    cases.code_case(incident, {**random_coding(rng), **coding}, by=moderator, today=TODAY)
    cases.verify_case(incident, by=moderator, today=TODAY)
    db.session.flush()
    return incident


def test_writes_that_bypass_the_services_move_the_counts_too(
    db_app: Flask, moderator_id: int
) -> None:
    """Bulk statements and foreign-key actions: no ORM event sees them, the triggers do."""
    with db_app.test_request_context():
        moderator = load_moderator(moderator_id)
        rng = seeded(11)
        types = {"incident_types": ["assault", "threat", "verbal_abuse"]}
        original = counted_case(moderator, rng, **types)
        repeats = [counted_case(moderator, rng, **types) for _ in range(3)]
        for repeat in repeats:
            cases.link_duplicate(repeat, original, by=moderator)
        db.session.flush()
        every = StatisticsQuery(types="every", rows="type")
        assert count_cells(every).counts[("assault", TOTAL)] == 1
        # Deleting the original deletes its codes (cascade) and frees its repeats (SET NULL).
        db.session.execute(delete(Incident).where(Incident.id == original.id))
        assert count_cells(every).counts[("assault", TOTAL)] == 3
        assert statistics_count_differences() == []
        first, second, third = repeats
        db.session.execute(
            update(CaseCode)
            .where(CaseCode.incident_id == first.id, CaseCode.code == "assault")
            .values(code="arson")
        )
        db.session.execute(update(CaseCode).where(CaseCode.incident_id == second.id,
                                                  CaseCode.code == "threat")
                           .values(incident_id=third.id, code="desecration"))  # fmt: skip
        db.session.execute(
            update(Incident).where(Incident.id == third.id).values(date_from=dt.date(2019, 1, 2))
        )
        db.session.execute(text("UPDATE incident SET gender = NULL, coded_land = 'hb'"))
        assert statistics_count_differences() == []
        counted = count_cells(every).counts
        assert (counted[("arson", TOTAL)], counted[("assault", TOTAL)]) == (1, 2)
        assert counted[("desecration", TOTAL)] == 1


def test_a_record_key_is_set_once_and_never_changes(db_app: Flask, moderator_id: int) -> None:
    with db_app.test_request_context():
        incidents = [new_case(seeded(number)) for number in range(40)]
        db.session.commit()
        keys = [incident.record_key for incident in incidents]
        assert all(0 <= key < RECORD_KEYS for key in keys)
        assert len(set(keys)) == 40  # drawn at random from 2**32, not a constant
        assert max(keys) >= 2**16  # not the ONS's 0..255
        first = incidents[0]
        first.record_key = (first.record_key + 1) % RECORD_KEYS
        with pytest.raises(DBAPIError, match="record_key is permanent"):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(DBAPIError, match="record_key is permanent"):
            db.session.execute(update(Incident).values(record_key=Incident.record_key + 1))
        db.session.rollback()
        assert [incident.record_key for incident in incidents] == keys
        out_of_range = code_incident(sample_answers(), current_codebook(), today=TODAY,
                                     source="form")  # fmt: skip
        out_of_range.record_key = RECORD_KEYS
        db.session.add(out_of_range)
        with pytest.raises(DBAPIError, match="(?i)check"):
            db.session.flush()


def test_a_rolled_back_change_leaves_the_counts_as_they_were(
    db_app: Flask, moderator_id: int
) -> None:
    with db_app.test_request_context():
        moderator = load_moderator(moderator_id)
        incident = new_case(seeded(3))
        cases.start_review(incident, by=moderator)
        cases.code_case(incident, random_coding(seeded(3)), by=moderator, today=TODAY)
        cases.verify_case(incident, by=moderator, today=TODAY)
        db.session.commit()
        before = count_table(StatisticsQuery(), [TYPE])
        cases.link_duplicate(incident, new_case(seeded(4)), by=moderator)
        db.session.flush()
        assert count_table(StatisticsQuery(), [TYPE]) != before
        db.session.rollback()
        assert count_table(StatisticsQuery(), [TYPE]) == before
        assert statistics_count_differences() == []


def test_suspended_counts_are_counted_from_the_incidents_until_rebuilt(
    db_app: Flask, moderator_id: int
) -> None:
    rng = seeded(5)
    with db_app.test_request_context():
        moderator = load_moderator(moderator_id)
        for _ in range(12):
            random_step(rng, moderator)
        db.session.commit()
        query = parse_query({"rows": "land", "columns": "type", "verification":
                             "verified,not_verifiable"})  # fmt: skip
        suspend_statistics_counts()
        for _ in range(25):
            random_step(rng, moderator)
        assert not counts_are_current()
        assert db.session.scalar(select(func.count()).select_from(StatisticsCount))  # stale rows
        assert count_cells(query) == count_cells(query, from_incidents=True)
        assert statistics_count_differences()  # says the counts are suspended
        rebuild_statistics_counts()
        assert counts_are_current()
        assert statistics_count_differences() == []
        for _ in range(10):  # and the triggers keep them current again
            random_step(rng, moderator)
        assert statistics_count_differences() == []


def test_the_commands_check_and_rebuild(db_app: Flask, moderator_id: int) -> None:
    with db_app.test_request_context():
        moderator = load_moderator(moderator_id)
        rng = seeded(6)
        while not db.session.scalar(select(func.count()).select_from(StatisticsCount)):
            random_step(rng, moderator)
        db.session.commit()
    runner = db_app.test_cli_runner()
    assert runner.invoke(args=["statistics", "check"]).exit_code == 0
    with db_app.app_context():
        db.session.execute(update(StatisticsCount).values(key_sum=StatisticsCount.key_sum + 1))
        db.session.commit()
    checked = runner.invoke(args=["statistics", "check"])
    assert checked.exit_code == 1
    assert "stored (count, key sum)" in checked.output
    rebuilt = runner.invoke(args=["statistics", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "cells afresh" in rebuilt.output
    assert runner.invoke(args=["statistics", "check"]).exit_code == 0


def test_every_table_has_a_grouping_and_the_smallest_is_read(db_app: Flask) -> None:
    every_dimension = {"incident_type", "land", "town", "place_type", "target", "gender",
                       "age_band"}  # fmt: skip
    with db_app.app_context():
        every = groupings()
        assert [grouping.id for grouping in every] == sorted(grouping.id for grouping in every)
        for kind in (False, True):
            full = grouping_for({MONTH, *every_dimension}, every_type=kind)
            assert full is not None
            assert full.dimensions == {MONTH, *every_dimension}
            # Four dimensions, no period and no range of months: the full one without months.
            wide = grouping_for({"town", "place_type", "gender", "age_band", "incident_type"},
                                every_type=kind)  # fmt: skip
            assert wide is not None
            assert wide.dimensions == every_dimension
        # "Every coded type" counts an incident once per type: only by type does that add up.
        assert all("incident_type" in grouping.dimensions for grouping in every
                   if grouping.every_type)  # fmt: skip
        assert grouping_for({MONTH}, every_type=False) == every[0]
        land = grouping_for({MONTH, "land"}, every_type=False)
        assert land is not None
        assert land.dimensions == {MONTH, "land"}


# --- Several writers and several readers -----------------------------------------------------


@dataclass
class Worker:
    """One thread: its own app context, session and connection, committing each change."""

    app: Flask
    moderator_id: int
    seed: int
    case_ids: list[int]
    failures: int = 0
    done: int = 0
    error: BaseException | None = None

    def run(self) -> None:
        rng = seeded(self.seed)
        try:
            with self.app.test_request_context():
                moderator = db.session.get(User, self.moderator_id)
                assert moderator is not None
                for _ in range(12):
                    incident = db.session.get(Incident, rng.choice(self.case_ids))
                    assert incident is not None
                    try:
                        if rng.random() < 0.5:
                            cases.code_case(incident, random_coding(rng), by=moderator,
                                            today=TODAY)  # fmt: skip
                        else:
                            original = db.session.get(Incident, rng.choice(self.case_ids))
                            cases.link_duplicate(incident, None if original is incident
                                                 else original, by=moderator)  # fmt: skip
                        db.session.commit()
                        self.done += 1
                    except (DBAPIError, cases.CaseRefused):
                        db.session.rollback()  # another writer in the way: a refused change
                        self.failures += 1
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            self.error = error


def test_writers_at_the_same_time_never_lose_a_count(db_app: Flask, moderator_id: int) -> None:
    with db_app.test_request_context():
        moderator = load_moderator(moderator_id)
        rng = seeded(7)
        made = [new_case(rng) for _ in range(16)]
        for incident in made:
            cases.start_review(incident, by=moderator)
            cases.code_case(incident, random_coding(rng), by=moderator, today=TODAY)
            cases.verify_case(incident, by=moderator, today=TODAY)
        db.session.commit()
        ids = [incident.id for incident in made]
    # Two pairs of workers share their cases: the same incidents change from two sides.
    workers = [Worker(db_app, moderator_id, seed, ids[(seed % 2) * 8:(seed % 2) * 8 + 8])
               for seed in range(4)]  # fmt: skip
    threads = [threading.Thread(target=worker.run) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for worker in workers:
        assert worker.error is None, worker.error
    assert sum(worker.failures for worker in workers) < 24  # most changes went through
    with db_app.app_context():
        assert statistics_count_differences() == []


def test_every_worker_reads_the_same_current_counts(
    make_app: AppFactory, db_app: Flask, moderator_id: int
) -> None:
    """A second app on the same database stands for another worker or node: no cache to drop.

    Fourteen incidents, then seven of them marked as repeats of the others: 14 is published
    as 12..16 and 7 as 5..9, so the change shows whatever the record keys."""
    other = make_app(DATABASE_URL=db_app.config["SQLALCHEMY_DATABASE_URI"])
    with db_app.test_request_context():
        moderator = load_moderator(moderator_id)
        rng = seeded(8)
        made = []
        for _ in range(14):
            incident = new_case(rng, dt.date(2025, 5, 3))
            cases.start_review(incident, by=moderator)
            cases.code_case(incident, {"incident_types": ["threat"], "land": ["hb"],
                                       "place_type": ["street"], "target": ["person"]},
                            by=moderator, today=TODAY)  # fmt: skip
            cases.verify_case(incident, by=moderator, today=TODAY)
            made.append(incident)
        db.session.commit()
        keys = [incident.record_key for incident in made]
        perturbation = statistics_perturbation()
    reader = other.test_client()

    def published_2025() -> dict[str, int]:
        html = reader.get("/de/statistics?year=2025").get_data(as_text=True)
        # 2025 may be the year the data begin: its label then adds the days it counts.
        tables = {caption.split(", ab ")[0]: table for caption, table in html_tables(html).items()}
        years = tables["Bestätigte Vorfälle pro Jahr"]
        (year_2025,) = [row for row in years.rows if row.split(" (")[0] == "2025"]
        return {
            "year": years.value(year_2025),
            "Land": tables["Vorfälle nach Bundesland, 2025"].value("Bremen"),
            "type": tables["Vorfälle nach Art, 2025"].value("Bedrohung"),
        }

    before = perturbation.publish_cell(14, sum(keys))
    assert published_2025() == dict.fromkeys(("year", "Land", "type"), before)
    with db_app.test_request_context():
        moderator = load_moderator(moderator_id)
        for repeat, original in zip(made[:7], made[7:], strict=True):
            cases.link_duplicate(db.session.merge(repeat), db.session.merge(original),
                                 by=moderator)  # fmt: skip
        db.session.commit()
    after = perturbation.publish_cell(7, sum(keys[7:]))
    assert after != before
    assert published_2025() == dict.fromkeys(("year", "Land", "type"), after)
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


# --- The counts give what counting the incidents gives ---------------------------------------


@pytest.fixture
def demo_data(db_app: Flask) -> Iterator[Flask]:
    with db_app.test_request_context():
        demo.generate_demo_incidents(4000, today=TODAY, seed=3)
        yield db_app


@pytest.mark.usefixtures("demo_data")
def test_every_table_reads_the_same_from_the_counts_as_from_the_incidents() -> None:
    assert statistics_count_differences() == []
    queries = []
    for rows in DIMENSIONS:
        for columns in [None, *(name for name in DIMENSIONS if name != rows)]:
            for types in ("most_severe", "every"):
                parameters = {"rows": rows, "types": types, "period": "quarter",
                              "verification": "verified,not_verifiable"}  # fmt: skip
                if columns:
                    parameters["columns"] = columns
                queries.append(parse_query(parameters))
    rng = seeded(9)
    queries += [random_query(rng) for _ in range(150)]
    queries.append(parse_query({"rows": "gender", "columns": "age_band", "land": "be",
                                "from": "2025-01", "to": "2025-12"}))  # fmt: skip
    queries.append(parse_query({"rows": "town", "land": "be,nw",
                                "town": f"{NOT_STATED},berlin"}))  # fmt: skip
    for query in queries:
        assert count_cells(query) == count_cells(query, from_incidents=True), query
    quarters = StatisticsQuery(granularity="quarter", verification=(VERIFIED, NOT_VERIFIABLE))
    tables = [(StatisticsQuery(granularity="month"), [PERIOD]), (quarters, [PERIOD, TYPE]),
              (StatisticsQuery(), [PERIOD, "land"]), (quarters, ["town", "place_type", "gender"]),
              (queries[-1], ["gender", "age_band"])]  # fmt: skip
    assert count_tables(tables) == count_tables(tables, from_incidents=True)
    perturbation = statistics_perturbation()
    assert count_public_statistics(perturbation, today=TODAY) == count_public_statistics(
        perturbation, today=TODAY, from_incidents=True
    )
