"""Storing a submitted report: everything personal sealed before it reaches a model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.crypto.keyring import sealing_key
from app.crypto.keys import load_public_key
from app.crypto.receipts import (
    ReceiptCode,
    new_receipt_code,
    new_receipt_salt,
    parse_receipt_code,
    receipt_lookup,
)
from app.crypto.reports import Evidence, seal_report
from app.extensions import db
from app.models import Report


@dataclass(frozen=True)
class StoredReport:
    report: Report
    receipt: ReceiptCode


def submit_report(
    answers: Mapping[str, str],
    evidence: Sequence[Evidence],
    *,
    today: dt.date,
    receipt_secret: bytes,
) -> StoredReport:
    """Seal and store one report; return it with its receipt code (shown once, never stored).

    No audit event is written: an event's exact time would date the submission more
    precisely than the report itself does, and there is no actor to name.

    Raises:
        KeysNotInitialised: before ``flask keys init``.
    """
    org_key = sealing_key()
    receipt = new_receipt_code()
    report = Report(
        receipt_lookup=receipt_lookup(receipt, receipt_secret),
        submitted_on=today,
        org_key_id=org_key.id,
        receipt_salt=new_receipt_salt(),
    )
    db.session.add(report)
    db.session.flush()  # the id is part of every sealed field's associated data
    seal_report(report, answers, evidence, load_public_key(org_key.public_key), receipt)
    db.session.flush()
    return StoredReport(report, receipt)


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
