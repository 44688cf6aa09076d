"""The statistics' pre-aggregated counts, kept current by the database in every transaction.

For each grouping (a set of dimensions, counted under the most severe type or under every coded
type) ``statistics_count`` holds, per cell, how many counted incidents it has and the sum of
their record keys. Triggers on ``incident`` and ``case_code`` (created by migration 4b7e2d9a1c35)
move an incident's contribution whenever a counted value changes, whoever writes the row; see
``app/research/counts.py``. Nothing here is ever shown: a cell's true count and key sum are for
the disclosure control only.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

# A dimension a grouping does not split by holds this; "" stands for "not given" (NULL), so
# that every cell has one key the database can upsert on (NULLs never conflict).
ALL_VALUES = "*"
NOT_GIVEN = ""


class StatisticsGrouping(Base):
    """The dimensions one set of counts is split by (decision and codebook version always).
    Rows are fixed by migrations; ids ascend by size within each kind."""

    __tablename__ = "statistics_grouping"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    # False: each incident once, under its most severe coded type; True: once per coded type.
    every_type: Mapped[bool] = mapped_column(Boolean)
    by_month: Mapped[bool] = mapped_column(Boolean)  # False: ``month`` is 0 (all months)
    by_incident_type: Mapped[bool] = mapped_column(Boolean)
    by_land: Mapped[bool] = mapped_column(Boolean)
    by_town: Mapped[bool] = mapped_column(Boolean)
    by_place_type: Mapped[bool] = mapped_column(Boolean)
    by_target: Mapped[bool] = mapped_column(Boolean)
    by_gender: Mapped[bool] = mapped_column(Boolean)
    by_age_band: Mapped[bool] = mapped_column(Boolean)


class StatisticsCount(Base):
    """One cell of one grouping: the counted incidents in it and the sum of their record keys."""

    __tablename__ = "statistics_count"
    # Clustered by the key on SQLite: one grouping's rows are read as one range.
    __table_args__ = {"sqlite_with_rowid": False}

    grouping_id: Mapped[int] = mapped_column(
        SmallInteger,
        ForeignKey("statistics_grouping.id", ondelete="CASCADE"),
        primary_key=True,
    )
    verification: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # year * 100 + month
    codebook_version: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    land: Mapped[str] = mapped_column(String(2), primary_key=True)
    town: Mapped[str] = mapped_column(String(64), primary_key=True)
    place_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    target: Mapped[str] = mapped_column(String(32), primary_key=True)
    gender: Mapped[str] = mapped_column(String(16), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(16), primary_key=True)
    # A cell an incident left keeps a row with 0 until the next rebuild.
    count: Mapped[int] = mapped_column(Integer)
    key_sum: Mapped[int] = mapped_column(BigInteger)


class StatisticsState(Base):
    """One row: whether ``statistics_count`` is current. False only while a bulk load runs
    without the triggers' work (the demo generator); readers then count the incidents."""

    __tablename__ = "statistics_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counts_current: Mapped[bool] = mapped_column(Boolean)
