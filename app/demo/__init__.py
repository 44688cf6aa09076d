"""Demo data: realistic coded incidents for trying the statistics and the moderation queue.

``generate_demo_incidents`` adds incidents spread like the published reports (CLAIM, RIAS):
three years up to ``today`` with a mild seasonality and a rising trend, Länder roughly by
population but with Berlin, Nordrhein-Westfalen and Bayern at the top, verbal abuse far ahead of
discrimination, online hate and hostile behaviour, violent attacks rare. Most incidents are
verified and coded by the moderators (``case_code`` and the incident's ``coded_*`` summary), some
not verifiable, few out of scope; the newest few percent are still received or in review.

Only the newest open cases (at most ``MAX_REPORTS``) get a report, with placeholder text sealed
through the real sealing path, so the queue and the case pages work. Every older incident is
as retention leaves a closed case: no report.

The rows go in with bulk inserts (no ORM object, no audit event per row; one ``demo:generate``
event for the whole run), so a million incidents take minutes. The statistics' pre-aggregated
counts are suspended meanwhile (a trigger per row would double the time) and counted afresh at
the end, in the last commit; a run interrupted before leaves them suspended, and the statistics
counted from the incidents, until ``flask statistics rebuild``. Never in production: the
function refuses to run under the production configuration.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Table, func, insert, select, text

from app.audit import AuditTag, record_event
from app.codebook import Codebook, current_codebook
from app.codebook.answers import month_end
from app.crypto.keyring import keys_initialised
from app.crypto.receipts import new_receipt_code
from app.extensions import db
from app.intake.services import store_sealed_report
from app.models import CaseCode, Incident, IncidentCode
from app.models.incident import (
    CLOSED,
    IN_REVIEW,
    NOT_VERIFIABLE,
    OUT_OF_SCOPE,
    RECEIVED,
    VERIFIED,
)
from app.research.counts import rebuild_statistics_counts, suspend_statistics_counts

PRODUCTION = "production"
PLACEHOLDER = "Platzhalter – Demodaten"
MAX_REPORTS = 200
BATCH_SIZE = 10_000
COMMIT_EVERY = 50_000
DAYS = 3 * 365 + 1  # three years up to and including today
OPEN_SHARE = 0.03  # the newest incidents: received or in review, not coded yet
UNCLOSED_SHARE = 0.05  # the next older ones: decided, not closed yet
DUPLICATE_SHARE = 0.03

# Reports per Land: roughly by population, but Berlin (a dense reporting network) next to the
# two largest Länder, and the other city states above their size, as in CLAIM's and RIAS's counts.
LAND_WEIGHTS = {"nw": 19, "be": 15, "by": 14, "bw": 9, "ni": 7, "he": 6.5, "sn": 4, "rp": 3.5,
                "hh": 3, "sh": 2.5, "bb": 2.2, "st": 2, "th": 2, "mv": 1.3, "hb": 1.2,
                "sl": 0.9}  # fmt: skip
# The type a report is mainly about: verbal abuse far ahead, then discrimination (four codes
# together), online hate and hostile behaviour; attacks on people and property rare.
MAIN_TYPE_WEIGHTS = {"verbal_abuse": 34, "insult_online": 13, "hurtful_behaviour": 9,
                     "threat": 5, "discrimination_work": 5, "discrimination_goods": 4.5,
                     "discrimination_authorities": 4.5, "discrimination_housing": 3,
                     "assault": 4.5, "property_damage": 4, "mass_mailing": 3,
                     "desecration": 2, "other": 2, "arson": 0.4,
                     "extreme_violence": 0.1}  # fmt: skip
# Further types named with it: mostly the milder forms that come along.
EXTRA_TYPE_WEIGHTS = {"verbal_abuse": 40, "hurtful_behaviour": 30, "insult_online": 15,
                      "threat": 4, "property_damage": 3, "other": 3}  # fmt: skip
TYPE_COUNT_WEIGHTS = {1: 60, 2: 30, 3: 10}
OFFLINE_PLACES = {"street": 35, "public_transport": 20, "shop": 10, "work": 8, "education": 8,
                  "housing": 6, "health": 3, "authority": 3, "online": 5,
                  "other": 2}  # fmt: skip
PLACES_BY_TYPE: Mapping[str, Mapping[str, float]] = {
    "insult_online": {"online": 90, "education": 4, "work": 4, "other": 2},
    "mass_mailing": {"online": 60, "mosque_community": 40},
    "discrimination_work": {"work": 100},
    "discrimination_authorities": {"authority": 90, "education": 10},
    "discrimination_housing": {"housing": 100},
    "discrimination_goods": {"shop": 60, "health": 25, "other": 15},
    "desecration": {"mosque_community": 80, "other": 20},
    "arson": {"mosque_community": 70, "housing": 30},
    "property_damage": {"mosque_community": 40, "housing": 25, "street": 20, "shop": 15},
}
PLATFORM_WEIGHTS = {"facebook": 20, "instagram": 18, "x_twitter": 18, "tiktok": 14,
                    "youtube": 8, "whatsapp": 7, "email": 6, "telegram": 5,
                    "website_comments": 3, "other": 1}  # fmt: skip
MAIL_PLATFORMS = {"email": 70, "website_comments": 15, "facebook": 15}
PROPERTY_TYPES = frozenset({"property_damage", "desecration", "arson", "mass_mailing"})
PERSON_TARGETS = {"person": 85, "group": 15}
PROPERTY_TARGETS = {"institution": 70, "group": 10, "person": 20}
ROLE_WEIGHTS = {"affected": 55, "witness": 20, "relative": 12, "counselling": 7,
                "organisation": 6}  # fmt: skip
GENDER_WEIGHTS = {"woman": 62, "man": 30, "prefer_not": 6, "diverse": 2}
AGE_WEIGHTS = {"age_30_44": 33, "age_18_29": 32, "age_45_64": 18, "under_18": 8,
               "prefer_not": 5, "age_65_plus": 4}  # fmt: skip
# What the person thinks it was because of; a headscarf most often for women.
BECAUSE_WOMEN = {"headscarf": 60, "appearance": 10, "name": 8, "origin": 8, "language": 6,
                 "place": 4, "other": 4}  # fmt: skip
BECAUSE_OTHERS = {"appearance": 22, "origin": 20, "name": 18, "beard": 14, "language": 12,
                  "place": 8, "other": 6}  # fmt: skip
DATE_KINDS = {"exact": 70, "month": 20, "period": 10}
TIMES_OF_DAY = {"afternoon": 30, "evening": 25, "morning": 20, "night": 10, "unknown": 15}
PERPETRATOR_COUNTS = {"one": 55, "several": 30, "unknown": 15}
PERPETRATOR_KNOWN = {"stranger": 65, "known": 20, "unknown": 15}
SUPPORT_WISHED = {"no_support": 55, "counselling_referral": 45}
DECISIONS = {VERIFIED: 82, NOT_VERIFIABLE: 13, OUT_OF_SCOPE: 5}
# How many decided cases the moderators coded: every verified one (verified incidents are
# counted by their coding), only some of the others.
CODED_SHARE = {VERIFIED: 1.0, NOT_VERIFIABLE: 0.6, OUT_OF_SCOPE: 0.3}

Row = dict[str, Any]


class DemoRefused(RuntimeError):
    """Demo data is refused under the production configuration: it would mix with real reports."""


@dataclass(frozen=True)
class DemoResult:
    """What one run added (counts and ids only)."""

    incidents: int
    reports: int  # incidents with a sealed placeholder report
    first_id: int
    last_id: int
    keys: bool  # False: no organisation key, so no incident got a report


class _Weighted:
    """Codes with weights, drawn by one uniform number (much faster than ``rng.choices``)."""

    def __init__(self, weights: Mapping[Any, float]) -> None:
        self.codes = tuple(weights)
        total, cumulative = 0.0, []
        for weight in weights.values():
            total += weight
            cumulative.append(total)
        self.cumulative = cumulative
        self.last = len(self.codes) - 1

    def pick(self, rng: random.Random) -> Any:
        found = bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.codes[min(found, self.last)]


def _checked(codebook: Codebook, question: str, weights: Mapping[str, float]) -> _Weighted:
    unknown = set(weights) - set(codebook.question(question).codes)
    if unknown:
        raise ValueError(f"demo weights name codes the codebook lacks: {question} {unknown}")
    return _Weighted(weights)


class _Profile:
    """Every distribution, checked against the codebook once."""

    def __init__(self, codebook: Codebook) -> None:
        self.lands = _checked(codebook, "land", LAND_WEIGHTS)
        self.main_types = _checked(codebook, "incident_types", MAIN_TYPE_WEIGHTS)
        self.extra_types = _checked(codebook, "incident_types", EXTRA_TYPE_WEIGHTS)
        self.type_counts = _Weighted(TYPE_COUNT_WEIGHTS)
        self.offline_places = _checked(codebook, "place_type", OFFLINE_PLACES)
        self.places_by_type = {
            code: _checked(codebook, "place_type", weights)
            for code, weights in PLACES_BY_TYPE.items()
        }
        _checked(codebook, "incident_types", dict.fromkeys(PLACES_BY_TYPE, 1))
        self.platforms = _checked(codebook, "platform", PLATFORM_WEIGHTS)
        self.mail_platforms = _checked(codebook, "platform", MAIL_PLATFORMS)
        self.person_targets = _checked(codebook, "target", PERSON_TARGETS)
        self.property_targets = _checked(codebook, "target", PROPERTY_TARGETS)
        self.roles = _checked(codebook, "role", ROLE_WEIGHTS)
        self.genders = _checked(codebook, "gender", GENDER_WEIGHTS)
        self.ages = _checked(codebook, "age_band", AGE_WEIGHTS)
        self.because_women = _checked(codebook, "perceived_because", BECAUSE_WOMEN)
        self.because_others = _checked(codebook, "perceived_because", BECAUSE_OTHERS)
        self.date_kinds = _checked(codebook, "date_kind", DATE_KINDS)
        self.times = _checked(codebook, "time_of_day", TIMES_OF_DAY)
        self.perpetrator_counts = _checked(codebook, "perpetrator_count", PERPETRATOR_COUNTS)
        self.perpetrator_known = _checked(codebook, "perpetrator_known", PERPETRATOR_KNOWN)
        self.support = _checked(codebook, "support_wished", SUPPORT_WISHED)
        self.decisions = _Weighted(DECISIONS)
        # A town is coded only under its own Land; "other" (no Land) only as the reporter's.
        towns: dict[str, list[str]] = {}
        for answer in codebook.question("town").answers:
            if answer.land is not None:
                towns.setdefault(answer.land, []).append(answer.code)
        self.towns = {land: tuple(codes) for land, codes in towns.items()}
        self.other_town = "other" if "other" in codebook.question("town").codes else None


@dataclass(frozen=True)
class _Core:
    """What a repeat report of the same incident says again."""

    land: str
    town: str | None
    place_type: str
    platform: str | None
    types: tuple[str, ...]
    target: str
    date_kind: str
    date_from: dt.date
    date_to: dt.date


def _day_weights(today: dt.date) -> list[float]:
    """Cumulative weights of the ``DAYS`` days up to ``today``, oldest first."""
    first = today - dt.timedelta(days=DAYS - 1)
    cumulative, total = [], 0.0
    for offset in range(DAYS):
        day = first + dt.timedelta(days=offset)
        trend = 1.0 + 0.6 * offset / DAYS  # more reports each year, as in CLAIM's figures
        season = 1.0 + 0.15 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 280) / 365)
        weekday = 0.85 if day.weekday() >= 5 else 1.0
        total += trend * season * weekday
        cumulative.append(total)
    return cumulative


def _days(rng: random.Random, count: int, today: dt.date) -> Iterator[dt.date]:
    """``count`` report days, oldest first; memory stays at one counter per day."""
    cumulative = _day_weights(today)
    per_day = [0] * DAYS
    offsets = range(DAYS)
    for start in range(0, count, BATCH_SIZE):
        size = min(BATCH_SIZE, count - start)
        for offset in rng.choices(offsets, cum_weights=cumulative, k=size):
            per_day[offset] += 1
    first = today - dt.timedelta(days=DAYS - 1)
    for offset, many in enumerate(per_day):
        day = first + dt.timedelta(days=offset)
        for _ in range(many):
            yield day


class _Generator:
    """Builds the rows of one incident at a time; only ``rng`` decides, so a seed repeats."""

    def __init__(self, rng: random.Random, codebook: Codebook, today: dt.date) -> None:
        self.rng = rng
        self.codebook = codebook
        self.profile = _Profile(codebook)
        self.today = today
        self.recent: deque[tuple[int, _Core]] = deque(maxlen=100)

    def _types(self) -> tuple[str, ...]:
        rng, profile = self.rng, self.profile
        types = [profile.main_types.pick(rng)]
        for _ in range(profile.type_counts.pick(rng) - 1):
            extra = profile.extra_types.pick(rng)
            if extra not in types:
                types.append(extra)
        return tuple(types)

    def _dates(self, reported_on: dt.date) -> tuple[str, dt.date, dt.date]:
        rng = self.rng
        kind: str = self.profile.date_kinds.pick(rng)
        if kind == "month":  # only the month is known: an earlier month than the report's
            first = (reported_on.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
            for _ in range(rng.choice((0, 0, 1, 2))):
                first = (first - dt.timedelta(days=1)).replace(day=1)
            return kind, first, month_end(first)
        lag = min(int(rng.expovariate(1 / 6)), 120)
        end = reported_on - dt.timedelta(days=lag)
        if kind == "exact":
            return kind, end, end
        return kind, end - dt.timedelta(days=rng.randint(7, 180)), end

    def _core(self, reported_on: dt.date) -> _Core:
        rng, profile = self.rng, self.profile
        types = self._types()
        places = profile.places_by_type.get(types[0], profile.offline_places)
        place: str = places.pick(rng)
        platform = None
        if place == "online":
            chooser = profile.mail_platforms if types[0] == "mass_mailing" else profile.platforms
            platform = chooser.pick(rng)
        land: str = profile.lands.pick(rng)
        towns = profile.towns.get(land, ())
        town = None
        chance = rng.random()
        if place == "online":
            if towns and chance < 0.2:
                town = rng.choice(towns)
        elif towns and (len(towns) <= 2 and chance < 0.9 or chance < 0.65):
            town = rng.choice(towns)
        elif chance < 0.75:
            town = profile.other_town
        targets = profile.property_targets if types[0] in PROPERTY_TYPES else profile.person_targets
        kind, date_from, date_to = self._dates(reported_on)
        return _Core(land, town, place, platform, types, targets.pick(rng), kind, date_from,
                     date_to)  # fmt: skip

    def _because(self, gender: str | None, target: str) -> list[str]:
        rng, profile = self.rng, self.profile
        if target == "institution":
            return ["place"] if rng.random() < 0.6 else []
        chooser = profile.because_women if gender == "woman" else profile.because_others
        found = [chooser.pick(rng)]
        if rng.random() < 0.25:
            second = chooser.pick(rng)
            if second not in found:
                found.append(second)
        return found if rng.random() < 0.85 else []

    def _moderators_types(self, types: tuple[str, ...]) -> tuple[str, ...]:
        """Mostly as reported; sometimes the moderators add or replace a type."""
        rng, profile = self.rng, self.profile
        chance = rng.random()
        if chance < 0.08 and len(types) < 3:
            extra = profile.extra_types.pick(rng)
            return types if extra in types else (*types, extra)
        if chance < 0.12:
            replaced = profile.main_types.pick(rng)
            rest = tuple(code for code in types[1:] if code != replaced)
            return (replaced, *rest)
        return types

    def _later(self, day: dt.date, most: int) -> dt.date:
        return min(self.today, day + dt.timedelta(days=self.rng.randint(0, most)))

    def rows(
        self, incident_id: int, reported_on: dt.date, stage: str
    ) -> tuple[Row, list[Row], list[Row]]:
        """The incident, the reporter's codes and the moderators' codes of one incident.

        ``stage`` is ``open`` (received or in review), ``decided`` or ``closed``.
        """
        rng, profile, codebook = self.rng, self.profile, self.codebook
        duplicate_of = None
        if self.recent and rng.random() < DUPLICATE_SHARE:
            duplicate_of, core = rng.choice(self.recent)
        else:
            core = self._core(reported_on)
            self.recent.append((incident_id, core))
        gender = age = None
        if core.target == "person":
            gender = profile.genders.pick(rng) if rng.random() < 0.92 else None
            age = profile.ages.pick(rng) if rng.random() < 0.9 else None
        because = self._because(gender, core.target)
        reporter = [{"incident_id": incident_id, "question": question, "code": code}
                    for question, codes in (("incident_types", core.types),
                                            ("perceived_because", because))
                    for code in codes]  # fmt: skip
        incident: Row = {
            "id": incident_id, "report_id": None, "state": RECEIVED,
            "codebook_version": codebook.version, "source": "form", "reported_on": reported_on,
            "role": profile.roles.pick(rng), "date_kind": core.date_kind,
            "date_from": core.date_from, "date_to": core.date_to,
            "time_of_day": profile.times.pick(rng) if rng.random() < 0.8 else None,
            "land": core.land, "town": core.town, "place_type": core.place_type,
            "online": core.place_type == "online", "platform": core.platform,
            "most_severe_type": codebook.most_severe_type(core.types), "target": core.target,
            "gender": gender, "age_band": age,
            "perpetrator_count": (profile.perpetrator_counts.pick(rng) if rng.random() < 0.85
                                  else None),
            "perpetrator_known": profile.perpetrator_known.pick(rng) if rng.random() < 0.8
                                 else None,
            "support_wished": profile.support.pick(rng) if rng.random() < 0.7 else None,
            "consent_publication": rng.random() < 0.35, "assigned_to": None,
            "duplicate_of": duplicate_of, "verified_on": None, "closed_on": None,
            "verification": None, "coded_on": None, "coded_codebook_version": None,
            "coded_most_severe_type": None, "coded_land": None, "coded_town": None,
            "coded_place_type": None, "coded_target": None,
        }  # fmt: skip
        if stage == "open":
            incident["state"] = RECEIVED if rng.random() < 0.4 else IN_REVIEW
            return incident, reporter, []
        decision: str = profile.decisions.pick(rng)
        incident["verification"] = decision
        incident["state"] = CLOSED if stage == "closed" else decision
        decided_on = self._later(reported_on, 14)
        moderators: list[Row] = []
        if rng.random() < CODED_SHARE[decision]:
            moderators = self._coding(incident, core, because, decided_on)
        if decision == VERIFIED:
            incident["verified_on"] = decided_on = self._later(decided_on, 7)
        if stage == "closed":
            incident["closed_on"] = self._later(decided_on, 45)
        return incident, reporter, moderators

    def _coding(self, incident: Row, core: _Core, because: list[str], on: dt.date) -> list[Row]:
        """The moderators' codes, and their summary on ``incident`` (as ``code_case`` does)."""
        types = self._moderators_types(core.types)
        town = core.town if core.town in self.profile.towns.get(core.land, ()) else None
        incident.update({
            "coded_on": on, "coded_codebook_version": self.codebook.version,
            "coded_most_severe_type": self.codebook.most_severe_type(types),
            "coded_land": core.land, "coded_town": town, "coded_place_type": core.place_type,
            "coded_target": core.target,
        })  # fmt: skip
        coding: list[tuple[str, tuple[str, ...] | list[str]]] = [
            ("incident_types", types), ("perceived_because", because), ("land", (core.land,)),
            ("town", (town,) if town else ()), ("place_type", (core.place_type,)),
            ("platform", (core.platform,) if core.platform else ()), ("target", (core.target,)),
        ]  # fmt: skip
        incident_id = incident["id"]
        return [{"incident_id": incident_id, "question": question, "code": code}
                for question, codes in coding for code in codes]  # fmt: skip


def refuse_in_production() -> None:
    """Raises: DemoRefused when the app runs with the production configuration."""
    if current_app.config.get("ENV_NAME", PRODUCTION) == PRODUCTION:
        raise DemoRefused(
            "demo data is refused with the production configuration (MELDEPORTAL_ENV=production);"
            " it would mix with real reports"
        )


def _sealed_report(reported_on: dt.date, codebook: Codebook, receipt_secret: bytes) -> int:
    """A report with placeholder text, sealed as the form seals it; returns its id.

    The receipt code is thrown away: nobody can follow the report up, but staff can open it.
    """
    report = store_sealed_report(
        {"description": PLACEHOLDER},
        [],
        codebook=codebook,
        receipt=new_receipt_code(),
        submitted_on=reported_on,
        receipt_secret=receipt_secret,
    )
    return report.id


def _table(model: type[Incident | IncidentCode | CaseCode]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # noqa: S101 - every mapped class here has its own table
    return table


class _Batch:
    """Rows waiting for one bulk insert per table."""

    def __init__(self) -> None:
        self.incidents: list[Row] = []
        self.reporter: list[Row] = []
        self.moderators: list[Row] = []

    def add(self, incident: Row, reporter: list[Row], moderators: list[Row]) -> None:
        self.incidents.append(incident)
        self.reporter.extend(reporter)
        self.moderators.extend(moderators)

    def insert(self) -> int:
        """Send the rows (the caller commits); returns how many incidents went in."""
        done = len(self.incidents)
        if not done:
            return 0
        # On the tables, not the mapped classes: the ORM's bulk insert splits the rows by which
        # values are None and sends most of them one by one; Core sends each list in one go.
        db.session.execute(insert(_table(Incident)), self.incidents)
        if self.reporter:
            db.session.execute(insert(_table(IncidentCode)), self.reporter)
        if self.moderators:
            db.session.execute(insert(_table(CaseCode)), self.moderators)
        if db.session.get_bind().dialect.name == "postgresql":
            # The ids were given here, not drawn from the sequence: move it past them, so that
            # the next report from the form does not collide.
            db.session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('incident', 'id'), max(id)) FROM incident"
                )
            )
        self.incidents, self.reporter, self.moderators = [], [], []
        return done


@contextmanager
def _relaxed_sync() -> Iterator[None]:
    """On SQLite, sync to disk at checkpoints only while the demo data goes in (a quarter faster).

    In WAL mode ``synchronous=NORMAL`` cannot corrupt the database; a power cut may only lose the
    last commits. The connection's setting is restored afterwards.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = int(db.session.scalar(text("PRAGMA synchronous")) or 0)
    db.session.execute(text("PRAGMA synchronous=NORMAL"))
    try:
        yield
    finally:
        db.session.execute(text(f"PRAGMA synchronous={before}"))


def generate_demo_incidents(
    count: int,
    *,
    today: dt.date,
    seed: int = 1,
    batch_size: int = BATCH_SIZE,
    commit_every: int = COMMIT_EVERY,
    commit: Callable[[], None] | None = None,
) -> DemoResult:
    """Add ``count`` demo incidents reported in the three years up to ``today``.

    Guarantees that the same ``seed``, ``count`` and ``today`` give the same incident rows
    (apart from the ids, which continue after the highest existing one, the report ids and the
    record keys, which come from ``secrets`` as for every incident):
    a second run appends. Every code is a code of the current codebook; verified incidents are
    coded; duplicates point at an earlier incident of the same run; every date is ``today`` or
    earlier. The newest open incidents (at most ``MAX_REPORTS``) get a report whose placeholder
    text is sealed to the organisation key; without a key no incident gets a report
    (``DemoResult.keys`` is False).

    Rows go in ``batch_size`` at a time and are committed through ``commit`` (default: the
    session's commit) every ``commit_every`` incidents. One ``demo:generate`` audit event, with
    the count and ids, lands with the last commit, with the statistics' counts rebuilt; a run
    interrupted before leaves its committed incidents without it (see the module docstring).

    Raises:
        DemoRefused: under the production configuration (before anything is written).
        ValueError: for a count or batch size below 1.
    """
    refuse_in_production()
    if count < 1 or batch_size < 1:
        raise ValueError("count and batch_size must be at least 1")
    commit = commit or db.session.commit
    codebook = current_codebook()
    receipt_secret = str(current_app.config["RECEIPT_SECRET"]).encode()
    rng = random.Random(seed)  # noqa: S311 - demo data, nothing secret is drawn from it
    generator = _Generator(rng, codebook, today)
    keys = keys_initialised()
    opened_from = count - math.ceil(count * OPEN_SHARE)
    unclosed_from = max(0, opened_from - math.ceil(count * UNCLOSED_SHARE))
    reports_from = count - min(MAX_REPORTS, count - unclosed_from) if keys else count
    first_id = int(db.session.scalar(select(func.max(Incident.id))) or 0) + 1
    batch = _Batch()
    uncommitted = 0
    with _relaxed_sync():
        suspend_statistics_counts()
        for position, reported_on in enumerate(_days(rng, count, today)):
            if position >= opened_from:
                stage = "open"
            elif position >= unclosed_from:
                stage = "decided"
            else:
                stage = "closed"
            incident, reporter, moderators = generator.rows(first_id + position, reported_on, stage)
            if keys and position >= reports_from:
                incident["report_id"] = _sealed_report(reported_on, codebook, receipt_secret)
            batch.add(incident, reporter, moderators)
            if len(batch.incidents) >= batch_size:
                uncommitted += batch.insert()
                if uncommitted >= commit_every:
                    commit()
                    uncommitted = 0
        batch.insert()
        last_id = first_id + count - 1
        reports = count - reports_from
        record_event(
            AuditTag.DEMO_GENERATE,
            f"{count} demo incidents generated (ids {first_id}-{last_id}, {reports} with reports)",
            target_type="incident",
            details={
                "incidents": count,
                "reports": reports,
                "seed": seed,
                "first_id": first_id,
                "last_id": last_id,
                "today": today.isoformat(),
            },  # fmt: skip
        )
        rebuild_statistics_counts()
        commit()
    return DemoResult(count, reports, first_id, last_id, keys)
