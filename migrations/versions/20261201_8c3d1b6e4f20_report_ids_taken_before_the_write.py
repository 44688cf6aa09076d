"""report ids taken before the write: a counter for SQLite

A report is sealed to its id; taking the id before anything is written lets the sealing run
with no write lock held. PostgreSQL takes ids from the report table's own sequence; SQLite gets
a counter row, started at the highest existing report id.

Revision ID: 8c3d1b6e4f20
Revises: 5e1f0c2a9b7d
Create Date: 2026-12-01 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "8c3d1b6e4f20"
down_revision = "5e1f0c2a9b7d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "id_counter",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_id_counter")),
    )
    op.execute(
        "INSERT INTO id_counter (name, last) SELECT 'report', COALESCE(MAX(id), 0) FROM report"
    )


def downgrade() -> None:
    op.drop_table("id_counter")
