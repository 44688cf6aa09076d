"""SQLAlchemy 2 typed models, one module per aggregate; imported here so Alembic sees them all."""

from app.models.api_token import ApiToken
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.case import CaseCode, CaseNote
from app.models.incident import Incident, IncidentCode
from app.models.keys import KeyGrant, KeySlot, OrgKey, SessionKey
from app.models.report import (
    Attachment,
    IdCounter,
    Message,
    Report,
    ReportField,
    StatusSession,
    Submission,
)
from app.models.statistics import StatisticsCount, StatisticsGrouping, StatisticsState
from app.models.usage import StatisticsUsage
from app.models.user import Invitation, LoginThrottle, RecoveryCode, StaffSession, User

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Base",
    "IdCounter",
    "CaseCode",
    "CaseNote",
    "Incident",
    "IncidentCode",
    "Invitation",
    "KeyGrant",
    "KeySlot",
    "LoginThrottle",
    "Message",
    "RecoveryCode",
    "OrgKey",
    "Report",
    "ReportField",
    "SessionKey",
    "StaffSession",
    "StatisticsCount",
    "StatisticsGrouping",
    "StatisticsState",
    "StatisticsUsage",
    "StatusSession",
    "Submission",
    "User",
]
