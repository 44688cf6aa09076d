"""statistics usage: tables per account and API token, per hour and per day

The research area and the statistics API are limited per requester (a staff account or a
token), not per address, with a daily budget that admins see.

Revision ID: b7a4e2d91c35
Revises: 4b7e2d9a1c35
Create Date: 2026-12-01 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b7a4e2d91c35"
down_revision = "4b7e2d9a1c35"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statistics_usage",
        sa.Column("requester", sa.String(length=32), nullable=False),
        sa.Column("span", sa.String(length=16), nullable=False),
        sa.Column("tables", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("requester", "span", name=op.f("pk_statistics_usage")),
    )


def downgrade() -> None:
    op.drop_table("statistics_usage")
