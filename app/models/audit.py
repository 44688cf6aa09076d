"""The append-only audit trail: who did what to which thing, never what a report says."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, event, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class AuditEvent(Base):
    """One security-relevant action.

    ``tag`` is one of ``app.audit.AuditTag``, named ``subject:action`` (``case:change_state``);
    ``summary`` is an untranslated English line; ``details`` holds ids and codes only. Reporter
    data and client addresses never go here.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    tag: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None]
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_audit_event_tag_occurred_at", "tag", "occurred_at"),
        Index("ix_audit_event_target", "target_type", "target_id"),
    )


class AuditLogIsAppendOnly(RuntimeError):
    """Audit events are written once and never changed or deleted through the application."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewriting_history(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed or deleted")
