"""How many statistics tables each account and API token has asked for, per hour and per day."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class StatisticsUsage(Base):
    """Tables counted for one requester in one window.

    ``requester`` is ``user:<id>`` or ``token:<id>``; ``span`` is a day (``2026-12-01``) or an
    hour of it (``2026-12-01T13``), in UTC. Staff and partners, never reporters, appear here.
    """

    __tablename__ = "statistics_usage"

    requester: Mapped[str] = mapped_column(String(32), primary_key=True)
    span: Mapped[str] = mapped_column(String(16), primary_key=True)
    tables: Mapped[int] = mapped_column(Integer, default=0)
