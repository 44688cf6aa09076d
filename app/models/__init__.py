"""SQLAlchemy 2 typed models, one module per aggregate; imported here so Alembic sees them all."""

from app.models.audit import AuditEvent
from app.models.base import Base

__all__ = ["AuditEvent", "Base"]
