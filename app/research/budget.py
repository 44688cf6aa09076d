"""Limits on how many tables one account or one API token can have counted.

Every table is a query against the confidential incidents; many overlapping tables are the raw
material of differencing attacks. So each requester — a staff account or an API token, never an
address that many people may share or one person may change — has an hourly limit and a daily
budget, counted in the database (shared by every worker and node) in the same transaction as the
table's audit event. Admins see each requester's use of the day on the admin pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import StatisticsUsage


class BudgetSpent(Exception):
    """The requester has used up the hour's limit or the day's budget."""

    def __init__(self, window: str, limit: int) -> None:
        super().__init__(f"{limit} tables per {window}")
        self.window = window  # "hour" or "day"
        self.limit = limit


@dataclass(frozen=True)
class Limits:
    per_hour: int
    per_day: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            int(config["STATISTICS_TABLES_PER_HOUR"]), int(config["STATISTICS_TABLES_PER_DAY"])
        )


def user_requester(user_id: int) -> str:
    return f"user:{user_id}"


def token_requester(token_id: int) -> str:
    return f"token:{token_id}"


def _spans(now: dt.datetime) -> dict[str, str]:
    day = now.date().isoformat()
    return {"hour": f"{day}T{now.hour:02d}", "day": day}


def _count_one_more(requester: str, span: str) -> int:
    on_postgresql = db.session.get_bind().dialect.name == "postgresql"
    insert = postgresql_insert if on_postgresql else sqlite_insert
    counted = (
        insert(StatisticsUsage)
        .values(requester=requester, span=span, tables=1)
        .on_conflict_do_update(
            index_elements=["requester", "span"], set_={"tables": StatisticsUsage.tables + 1}
        )
        .returning(StatisticsUsage.tables)
    )
    return int(db.session.execute(counted).scalar_one())


def charge_table(requester: str, limits: Limits, *, now: dt.datetime) -> None:
    """Count one table for ``requester`` (atomic, also under parallel requests).

    Raises:
        BudgetSpent: when this table would pass the hour's limit or the day's budget; the
        caller answers 429, and its rollback takes the count back.
    """
    allowed = {"hour": limits.per_hour, "day": limits.per_day}
    for name, span in _spans(now).items():
        if _count_one_more(requester, span) > allowed[name]:
            raise BudgetSpent(name, allowed[name])


def tables_today(today: dt.date) -> dict[str, int]:
    """Each requester's tables of the day, for the admin pages."""
    rows = db.session.execute(
        select(StatisticsUsage.requester, StatisticsUsage.tables).where(
            StatisticsUsage.span == today.isoformat()
        )
    )
    return {requester: int(tables) for requester, tables in rows}


def forget_old_usage(today: dt.date) -> int:
    """Spans before yesterday are no longer needed (``flask sessions purge`` runs this)."""
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    result = db.session.execute(delete(StatisticsUsage).where(StatisticsUsage.span < yesterday))
    return int(result.rowcount)  # type: ignore[attr-defined]
