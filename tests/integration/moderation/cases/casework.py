"""What the case service tests share: a moderator's desk with the keys, cases, audit events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.codebook import current_codebook
from app.crypto.keyring import UnlockedKeys
from app.extensions import db
from app.intake.services import code_incident
from app.models import AuditEvent, Incident, User
from app.models.incident import RECEIVED
from tests.factories import TODAY, sample_answers, store_sample_report

RECEIPT_SECRET = b"r" * 32
LATER = TODAY + dt.timedelta(days=3)
CODING = {"incident_types": ["assault", "verbal_abuse"], "land": ["sn"],
          "place_type": ["street"], "target": ["person"]}  # fmt: skip


@dataclass
class Desk:
    """A moderator with the organisation keys, as a login would have unlocked them."""

    moderator: User
    keys: UnlockedKeys
    recovery: str


def user(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


def events(tag: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)
                                   .order_by(AuditEvent.id)))  # fmt: skip


def event_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def new_case(**changes: Any) -> Incident:
    stored = store_sample_report(RECEIPT_SECRET, **changes)
    db.session.flush()
    return db.session.scalars(select(Incident).where(Incident.report_id == stored.report.id)).one()


def bare_incident(state: str = RECEIVED, **changes: Any) -> Incident:
    """A coded incident without a report (as the benchmark builds them), in ``state``."""
    incident = code_incident(sample_answers(**changes), current_codebook(), today=TODAY,
                             source="form")  # fmt: skip
    incident.state = state
    db.session.add(incident)
    db.session.flush()
    return incident
