"""Storing a submitted report: everything personal sealed before it reaches a model.

The raw report (sealed texts and images, the codebook version and hash) and the coded incident
(the reporter's own classification in clear codes) are written together but kept apart, so the
coded record can outlive the personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.codebook import Codebook
from app.codebook.answers import Answers, month_end
from app.crypto.keyring import sealing_key
from app.crypto.keys import load_public_key
from app.crypto.receipts import (
    ReceiptCode,
    new_receipt_salt,
    parse_receipt_code,
    receipt_lookup,
    submission_lookup,
)
from app.crypto.reports import Evidence, seal_report
from app.database import retry_on_contention
from app.extensions import db
from app.models import IdCounter, Incident, IncidentCode, Report, Submission

REPORT_IDS = "report"


@dataclass(frozen=True)
class StoredReport:
    report: Report
    receipt: ReceiptCode
    incident: Incident


def _incident_period(answers: Answers) -> tuple[dt.date, dt.date]:
    kind = answers.choices["date_kind"]
    if kind == "exact":
        day = answers.dates["incident_date"]
        return day, day
    if kind == "month":
        first = answers.dates["incident_month"]
        return first, month_end(first)
    return answers.dates["period_start"], answers.dates["period_end"]


def code_incident(answers: Answers, codebook: Codebook, *, today: dt.date, source: str) -> Incident:
    """The reporter's own classification as a coded incident: clear codes only."""
    choices = answers.choices
    date_from, date_to = _incident_period(answers)
    types = answers.multi["incident_types"]
    most_severe = codebook.most_severe_type(types)
    assert most_severe is not None  # noqa: S101 - incident_types is required
    incident = Incident(
        codebook_version=codebook.version,
        source=source,
        reported_on=today,
        role=choices["role"],
        date_kind=choices["date_kind"],
        date_from=date_from,
        date_to=date_to,
        time_of_day=choices.get("time_of_day"),
        land=choices["land"],
        town=choices.get("town"),
        place_type=choices["place_type"],
        online=choices["place_type"] == "online",
        platform=choices.get("platform"),
        most_severe_type=most_severe,
        target=choices["target"],
        gender=choices.get("gender"),
        age_band=choices.get("age_band"),
        perpetrator_count=choices.get("perpetrator_count"),
        perpetrator_known=choices.get("perpetrator_known"),
        support_wished=choices.get("support_wished"),
        consent_publication=answers.flags.get("consent_publication", False),
    )
    for question, codes in sorted(answers.multi.items()):
        incident.codes.extend(IncidentCode(question=question, code=code) for code in codes)
    return incident


def take_report_id(*, on_its_own: bool = True) -> int:
    """A new report's id, before any of its rows is written.

    Sealing binds every field to the report's id, and on SQLite the first write of a transaction
    takes the database's only write lock until the commit. Taking the id first lets a report be
    sealed with no lock held, so that the write itself stays short. PostgreSQL hands out the id
    from the table's own sequence; SQLite from a counter row, in a transaction of its own
    (``on_its_own``) that holds the lock only for that one update — or, for a caller that writes
    already (the demo generator), within the caller's transaction.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = text("SELECT nextval(pg_get_serial_sequence('report', 'id'))")
        return int(db.session.scalar(sequence))
    highest = select(func.coalesce(func.max(Report.id), 0)).scalar_subquery()
    statements = (
        sqlite_insert(IdCounter).values(name=REPORT_IDS, last=0).on_conflict_do_nothing(),
        update(IdCounter)
        .where(IdCounter.name == REPORT_IDS)
        .values(last=func.max(IdCounter.last, highest) + 1)
        .returning(IdCounter.last),
    )
    if not on_its_own:
        db.session.execute(statements[0])
        return int(db.session.execute(statements[1]).scalar_one())

    def take() -> int:
        with db.engine.begin() as connection:
            connection.execute(statements[0])
            return int(connection.execute(statements[1]).scalar_one())

    return retry_on_contention(take, lambda: None)


def store_sealed_report(
    texts: Mapping[str, str],
    evidence: Sequence[Evidence],
    *,
    codebook: Codebook,
    receipt: ReceiptCode,
    submitted_on: dt.date,
    receipt_secret: bytes,
    report_id: int | None = None,
) -> Report:
    """Add a report whose ``texts`` and ``evidence`` are sealed to the current organisation key.

    Nothing is written yet: the rows are added to the session, and the caller's flush (or
    commit) writes them in one short step. ``report_id`` comes from ``take_report_id``; without
    it, one is taken within the caller's transaction.

    Raises:
        KeysNotInitialised: before ``flask keys init``.
    """
    org_key = sealing_key()
    report = Report(
        id=report_id if report_id is not None else take_report_id(on_its_own=False),
        receipt_lookup=receipt_lookup(receipt, receipt_secret),
        submitted_on=submitted_on,
        org_key_id=org_key.id,
        receipt_salt=new_receipt_salt(),
        codebook_version=codebook.version,
        codebook_hash=codebook.hash,
    )
    seal_report(report, texts, evidence, load_public_key(org_key.public_key), receipt)
    db.session.add(report)
    return report


def submit_report(
    answers: Answers,
    evidence: Sequence[Evidence],
    *,
    codebook: Codebook,
    receipt: ReceiptCode,
    today: dt.date,
    receipt_secret: bytes,
    source: str = "form",
    form_token: str | None = None,
    report_id: int | None = None,
) -> StoredReport:
    """Seal one report and its coded incident and add them to the session, unwritten.

    With ``report_id`` from ``take_report_id()``, the report is sealed before anything is
    written, and the caller's one flush is the only moment a write lock is needed.
    ``form_token``: the form's one-time token, remembered so that a second POST of the same
    form finds this report.
    ``receipt`` is shown to the person once and never stored (only a keyed hash of it). No
    audit event is written: an event's exact time would date the submission more precisely than
    the report itself does, and there is no actor to name.

    Raises:
        KeysNotInitialised: before ``flask keys init``.
    """
    report = store_sealed_report(
        answers.texts,
        evidence,
        codebook=codebook,
        receipt=receipt,
        submitted_on=today,
        receipt_secret=receipt_secret,
        report_id=report_id,
    )
    incident = code_incident(answers, codebook, today=today, source=source)
    incident.report = report
    db.session.add(incident)
    if form_token is not None:
        remember_submission(form_token, report, receipt_secret)
    return StoredReport(report, receipt, incident)


def already_submitted(form_token: str, receipt_secret: bytes) -> Report | None:
    """The report an earlier POST of this very form created, if any."""
    submission = db.session.get(Submission, submission_lookup(receipt_secret, form_token))
    return None if submission is None else db.session.get(Report, submission.report_id)


def remember_submission(form_token: str, report: Report, receipt_secret: bytes) -> None:
    db.session.add(
        Submission(
            token_hash=submission_lookup(receipt_secret, form_token),
            report_id=report.id,
            submitted_on=report.submitted_on,
        )
    )


def find_report(typed_code: str, receipt_secret: bytes) -> tuple[Report, ReceiptCode] | None:
    """The report for a typed receipt code, or None — the same answer for malformed codes."""
    try:
        receipt = parse_receipt_code(typed_code)
    except ValueError:
        return None
    report = db.session.scalars(
        select(Report).where(Report.receipt_lookup == receipt_lookup(receipt, receipt_secret))
    ).first()
    return (report, receipt) if report else None
