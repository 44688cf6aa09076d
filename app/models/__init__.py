"""SQLAlchemy 2 typed models, one module per aggregate; imported here so Alembic sees them all."""

from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.keys import KeyGrant, KeySlot, OrgKey, SessionKey
from app.models.report import Attachment, Report, ReportField

__all__ = [
    "Attachment",
    "AuditEvent",
    "Base",
    "KeyGrant",
    "KeySlot",
    "OrgKey",
    "Report",
    "ReportField",
    "SessionKey",
]
