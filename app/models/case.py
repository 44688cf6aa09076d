"""Working a case: the moderators' own coding of an incident and their sealed internal notes.

Both sit beside the coded incident, never inside the reporter's rows: what the person reported
stays as they classified it, and the moderators' assessment can be replaced as a whole.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class CaseCode(Base):
    """One code of the moderators' classification (same codebook questions as the reporter's).

    A separate table rather than ``incident_code`` rows with a prefixed question: every query on
    the reporter's codes (statistics, exports) stays correct without having to exclude the
    moderators' rows, and recoding replaces these rows without touching the reporter's.
    """

    __tablename__ = "case_code"
    __table_args__ = (
        UniqueConstraint("incident_id", "question", "code"),
        Index("ix_case_code_question_code", "question", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))


class CaseNote(Base):
    """An internal note of the moderation team, sealed with the report's data key.

    The envelope's field name is ``note:<number>``, so a note copied to another number or
    report does not open. Only the day it was written is kept in clear.
    """

    __tablename__ = "case_note"
    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    number: Mapped[int] = mapped_column(Integer)
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary)
    written_on: Mapped[dt.date] = mapped_column(Date)
