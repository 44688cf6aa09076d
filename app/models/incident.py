"""The coded incident: clear codebook codes for queues and statistics, apart from the raw report.

Purging a report's personal data leaves this record, so the statistics keep counting it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

if TYPE_CHECKING:
    from app.models.report import Report

RECEIVED = "received"
IN_REVIEW = "in_review"
VERIFIED = "verified"
NOT_VERIFIABLE = "not_verifiable"
OUT_OF_SCOPE = "out_of_scope"
CLOSED = "closed"
STATES = (RECEIVED, IN_REVIEW, VERIFIED, NOT_VERIFIABLE, OUT_OF_SCOPE, CLOSED)
# Record keys are 0..2**32-1: the cell key is a hash of their sum (app/research/perturbation.py),
# and a million keys still sum within a 64-bit integer on both databases.
RECORD_KEYS = 2**32


def new_record_key() -> int:
    """A fresh record key: uniform and unpredictable, so no one can steer a cell's key."""
    return secrets.randbelow(RECORD_KEYS)


class Incident(Base):
    """One incident as its reporter classified it (the moderators' coding comes beside it).

    Every value is a code from the codebook version named here; free text never lands here.
    """

    __tablename__ = "incident"
    # The moderation queue pages newest first by id (keyset, no OFFSET): each filter it can
    # apply on its own has an index that ends in id, so its first page reads only its own rows.
    __table_args__ = (
        Index("ix_incident_state_id", "state", "id"),
        Index("ix_incident_land_id", "land", "id"),
        Index("ix_incident_most_severe_type_id", "most_severe_type", "id"),
        Index("ix_incident_assigned_to_id", "assigned_to", "id"),
        # The statistics count verified, coded incidents that are no one's duplicate.
        Index("ix_incident_verification_duplicate_of", "verification", "duplicate_of"),
        CheckConstraint(f"record_key BETWEEN 0 AND {RECORD_KEYS - 1}", name="record_key_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("report.id", ondelete="SET NULL"), unique=True
    )
    # Only so that a report and its incident written in one flush go in the right order.
    report: Mapped[Report | None] = relationship(lazy="raise_on_sql")
    state: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    codebook_version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # "form" or "api"
    reported_on: Mapped[dt.date] = mapped_column(Date, index=True)
    role: Mapped[str] = mapped_column(String(32))
    date_kind: Mapped[str] = mapped_column(String(16))
    date_from: Mapped[dt.date] = mapped_column(Date, index=True)
    date_to: Mapped[dt.date] = mapped_column(Date)
    time_of_day: Mapped[str | None] = mapped_column(String(16))
    land: Mapped[str] = mapped_column(String(2), index=True)
    town: Mapped[str | None] = mapped_column(String(64))
    place_type: Mapped[str] = mapped_column(String(32))
    online: Mapped[bool] = mapped_column(Boolean)
    platform: Mapped[str | None] = mapped_column(String(32))
    most_severe_type: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(16))
    perpetrator_count: Mapped[str | None] = mapped_column(String(16))
    perpetrator_known: Mapped[str | None] = mapped_column(String(16))
    support_wished: Mapped[str | None] = mapped_column(String(32))
    consent_publication: Mapped[bool] = mapped_column(Boolean, default=False)
    # The case (app/moderation/cases/): who works on it and what the moderators decided.
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # A repeat report of another incident: statistics count only rows where this is NULL.
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"), index=True
    )
    verified_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    # The moderators' decision (verified, not_verifiable, out_of_scope): unlike ``state`` it
    # survives closing, so the statistics know how a closed incident was assessed.
    verification: Mapped[str | None] = mapped_column(String(16))
    # The moderators' classification lives in case_code; these summarise it for counting, so
    # the statistics read one row per incident instead of pivoting case_code.
    coded_on: Mapped[dt.date | None] = mapped_column(Date)
    coded_codebook_version: Mapped[str | None] = mapped_column(String(32))
    coded_most_severe_type: Mapped[str | None] = mapped_column(String(32))
    coded_land: Mapped[str | None] = mapped_column(String(2))
    coded_town: Mapped[str | None] = mapped_column(String(64))
    coded_place_type: Mapped[str | None] = mapped_column(String(32))
    coded_target: Mapped[str | None] = mapped_column(String(32))
    # The cell-key method's permanent random key: a published cell's perturbation comes from
    # the sum of its incidents' keys, so the same incidents always get the same value. Set on
    # insert (for Core bulk inserts too), refused by the database when changed, never shown,
    # exported or audited: with the keys, the perturbation could be undone.
    record_key: Mapped[int] = mapped_column(BigInteger, default=new_record_key)

    codes: Mapped[list[IncidentCode]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", passive_deletes=True
    )

    def codes_for(self, question: str) -> list[str]:
        return sorted(item.code for item in self.codes if item.question == question)


class IncidentCode(Base):
    """One answer to a several-answers question (incident types, impact, ...)."""

    __tablename__ = "incident_code"
    __table_args__ = (
        UniqueConstraint("incident_id", "question", "code"),
        Index("ix_incident_code_question_code", "question", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))

    incident: Mapped[Incident] = relationship(back_populates="codes")
