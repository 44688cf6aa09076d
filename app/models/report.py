"""Raw reports as submitted: every personal word sealed, only dates and ids in clear."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
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
    codebook_version: Mapped[str | None] = mapped_column(String(32))
    codebook_hash: Mapped[str | None] = mapped_column(String(64))
    deletion_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    # When the personal data (sealed fields, images, messages, keys) is destroyed; set when
    # the case is closed (RETENTION_DAYS later) or a deletion request is honoured.
    retention_deadline: Mapped[dt.date | None] = mapped_column(Date, index=True)
    purged_on: Mapped[dt.date | None] = mapped_column(Date)

    fields: Mapped[list[ReportField]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Attachment.position",
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Message.number",
    )


class IdCounter(Base):
    """The last id handed out for a table whose ids are taken before its rows are written.

    Only SQLite uses it (PostgreSQL has sequences): reports are sealed to their id before the
    write, so the id must exist first (``app.intake.services.take_report_id``).
    """

    __tablename__ = "id_counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


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
    """A re-encoded evidence image and its metadata (type, size, original name), both sealed.

    ``sealed_with`` says which key: ``report`` (sent with the report, the data key) or
    ``mailbox`` (added later through the status page, where only the mailbox key is at hand).
    """

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    sealed_image: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_metadata: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_with: Mapped[str] = mapped_column(String(16), server_default="report")

    report: Mapped[Report] = relationship(back_populates="attachments")


class Message(Base):
    """A message in the report's mailbox, sealed under the mailbox key (readable by staff and,
    with the receipt code, by the reporter). ``kind``: ``message`` or ``addition`` (more
    information the reporter added to the report)."""

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(16))  # "reporter" or "staff"
    kind: Mapped[str] = mapped_column(String(16), default="message")
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary)
    sent_on: Mapped[dt.date] = mapped_column(Date)

    report: Mapped[Report] = relationship(back_populates="messages")


class Submission(Base):
    """A form already turned into a report: a second POST of the same form finds it here.

    ``token_hash`` is a keyed hash of the form's one-time token, never the token itself.
    """

    __tablename__ = "submission"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    submitted_on: Mapped[dt.date] = mapped_column(Date)


class StatusSession(Base):
    """A reporter's short visit to the status page.

    Which report it is for, its exact end and the key that opens the report's mailbox are
    sealed together (``sealed_access``) under a secret that lives only in the person's cookie.
    In clear there is only a random id and ``expires_on``, the last day on which the session
    can still be live — counted from the day it was opened, never from its time — so that
    ended sessions can be removed without anything that dates a visit or ties it to a report.
    """

    __tablename__ = "status_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed_access: Mapped[bytes] = mapped_column(LargeBinary)
    expires_on: Mapped[dt.date] = mapped_column(Date, index=True)
