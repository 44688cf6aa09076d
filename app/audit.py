"""Writing the audit trail, in the same transaction as the change it records."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from app.extensions import db
from app.models import AuditEvent

# Security events also go to the log, with ids only (DESIGN.md, "Hardening details").
security_log = logging.getLogger("meldeportal.security")


class AuditTag(StrEnum):
    """Every kind of audit event, named ``subject:action`` (as Warehouse names its events).

    The one list: ``record_event`` takes nothing else, so a new event is a new line here, and the
    admin's audit page can filter by subject (the part before the colon).
    """

    ACCOUNT_CONFIRM_SECOND_FACTOR = "account:confirm_second_factor"
    ACCOUNT_CREATE = "account:create"
    ACCOUNT_REMOVE = "account:remove"
    ACCOUNT_RESET = "account:reset"
    API_TOKEN_CREATE = "api_token:create"  # noqa: S105 (an event, not a secret)
    API_TOKEN_REVOKE = "api_token:revoke"  # noqa: S105
    CASE_ADD_NOTE = "case:add_note"
    CASE_ASSIGN = "case:assign"
    CASE_CHANGE_STATE = "case:change_state"
    CASE_CODE = "case:code"
    CASE_HONOUR_DELETION = "case:honour_deletion"
    CASE_LINK_DUPLICATE = "case:link_duplicate"
    CASE_OPEN = "case:open"
    CASE_SEND_MESSAGE = "case:send_message"
    DEMO_GENERATE = "demo:generate"
    INVITATION_CREATE = "invitation:create"
    KEY_SLOT_ADD = "key_slot:add"
    KEY_SLOT_CHANGE_PASSWORD = "key_slot:change_password"  # noqa: S105
    KEY_SLOT_GRANT = "key_slot:grant"
    KEY_SLOT_RECOVER = "key_slot:recover"
    KEY_SLOT_REMOVE = "key_slot:remove"
    LOGIN_FAILURE = "login:failure"
    LOGIN_SUCCESS = "login:success"
    ORG_KEY_INIT = "org_key:init"
    ORG_KEY_ROTATE = "org_key:rotate"
    ORG_KEY_START_ROTATION = "org_key:start_rotation"
    RECOVERY_CODE_USE = "recovery_code:use"
    REPORT_HONOUR_DELETION = "report:honour_deletion"
    REPORT_PURGE = "report:purge"
    SESSIONS_END_EVERYWHERE = "sessions:end_everywhere"
    STATISTICS_EXPORT = "statistics:export"


def record_event(
    tag: AuditTag,
    summary: str,
    *,
    actor_id: int | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller's commit lands both).

    ``summary`` and ``details`` hold ids, codes and
    fingerprints only — never report content, receipt codes, key material or addresses.
    """
    event = AuditEvent(
        tag=tag.value,
        summary=summary,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
    )
    db.session.add(event)
    security_log.info(
        "%s actor=%s target=%s:%s %s", tag.value, actor_id, target_type, target_id, summary
    )
    return event
