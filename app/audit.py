"""Writing the audit trail, in the same transaction as the change it records."""

from __future__ import annotations

import logging
from typing import Any

from app.extensions import db
from app.models import AuditEvent

# Security events also go to the log, with ids only (DESIGN.md, "Hardening details").
security_log = logging.getLogger("meldeportal.security")


def record_event(
    tag: str,
    summary: str,
    *,
    actor_id: int | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller's commit lands both).

    ``tag`` is ``subject:object:action``; ``summary`` and ``details`` hold ids, codes and
    fingerprints only — never report content, receipt codes, key material or addresses.
    """
    event = AuditEvent(
        tag=tag,
        summary=summary,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
    )
    db.session.add(event)
    security_log.info("%s actor=%s target=%s:%s %s", tag, actor_id, target_type, target_id, summary)
    return event
