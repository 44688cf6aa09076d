"""Sample submissions that the codebook accepts, for tests and benchmarks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.codebook import current_codebook
from app.codebook.answers import Answers, parse_answers
from app.crypto.receipts import ReceiptCode, new_receipt_code
from app.crypto.reports import Evidence
from app.intake.services import StoredReport, submit_report

TODAY = dt.date(2026, 11, 26)


def report_form_data(**changes: Any) -> dict[str, Any]:
    """A complete, valid report as the form posts it (question id -> value)."""
    data: dict[str, Any] = {
        "role": "affected",
        "date_kind": "exact",
        "incident_date": "2026-11-01",
        "time_of_day": "evening",
        "land": "sn",
        "town": "leipzig",
        "district": "Eisenbahnstraße",
        "place_type": "public_transport",
        "incident_types": ["verbal_abuse", "threat"],
        "description": "In der Straßenbahn wurde sie wegen ihres Kopftuchs beschimpft.",
        "perceived_because": ["headscarf"],
        "target": "person",
        "gender": "woman",
        "age_band": "age_30_44",
        "perpetrator_count": "one",
        "perpetrator_known": "stranger",
        "perpetrator_description": "Ein Mann, etwa 50 Jahre alt.",
        "bystanders": ["did_nothing"],
        "impact": ["psychological"],
        "support_wished": "no_support",
        "reported_elsewhere": ["none"],
        "why_not": ["no_trust"],
        "consent_special_categories": "y",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def sample_answers(**changes: Any) -> Answers:
    return parse_answers(current_codebook(), report_form_data(**changes), TODAY)


def store_sample_report(
    receipt_secret: bytes,
    *,
    evidence: list[Evidence] | None = None,
    receipt: ReceiptCode | None = None,
    **changes: Any,
) -> StoredReport:
    """Seal and store one sample report (the caller commits)."""
    return submit_report(
        sample_answers(**changes),
        evidence or [],
        codebook=current_codebook(),
        receipt=receipt or new_receipt_code(),
        today=TODAY,
        receipt_secret=receipt_secret,
    )
