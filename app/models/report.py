"""Raw reports as submitted: every personal word sealed, only dates and ids in clear."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class Report(Base):
    """One submission.

    ``wrapped_data_key`` is the report's data key wrapped to the organisation key ``org_key_id``.
    The mailbox key (for messages with the reporter) is wrapped twice: to the organisation and
    under a key derived from the receipt code. Only the date of submission is kept in clear: an
    exact time could be matched against network logs.
    """

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_on: Mapped[dt.date] = mapped_column(Date, index=True)
    org_key_id: Mapped[int] = mapped_column(ForeignKey("org_key.id"), index=True)
    wrapped_data_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_mailbox_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    receipt_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    receipt_wrapped_mailbox_key: Mapped[bytes | None] = mapped_column(LargeBinary)

    fields: Mapped[list[ReportField]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Attachment.position",
    )


class ReportField(Base):
    """One sealed answer; ``name`` is the codebook's field name, the value an envelope."""

    __tablename__ = "report_field"
    __table_args__ = (UniqueConstraint("report_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[bytes] = mapped_column(LargeBinary)

    report: Mapped[Report] = relationship(back_populates="fields")


class Attachment(Base):
    """A re-encoded evidence image and its metadata (type, size, original name), both sealed."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    sealed_image: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_metadata: Mapped[bytes] = mapped_column(LargeBinary)

    report: Mapped[Report] = relationship(back_populates="attachments")
