"""status sessions: their report and exact end sealed, only a day in clear

A status session named its report and its exact end (microseconds) in clear, so a copy of the
database dated every status visit of a report. Now ``sealed_access`` holds the report id, the
exact end and the receipt code's key, sealed under the secret in the person's cookie; in clear
stays a random id and ``expires_on``, the last day the session can be live.

Existing sessions cannot be rewritten — their secrets exist only in cookies — so upgrading and
downgrading both remove them. They lived two hours at most; whoever was reading their status at
that moment types the code again.

Revision ID: fff25083a049
Revises: 6918f2188c81
Create Date: 2026-11-27 10:12:40
"""

import sqlalchemy as sa
from alembic import op

revision = "fff25083a049"
down_revision = "6918f2188c81"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_session_expires_at"))
    op.drop_table("status_session")
    op.create_table(
        "status_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("sealed_access", sa.LargeBinary(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_session")),
    )
    with op.batch_alter_table("status_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_session_expires_on"), ["expires_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("status_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_session_expires_on"))
    op.drop_table("status_session")
    op.create_table(
        "status_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("sealed_mailbox_key", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_status_session_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_session")),
    )
    with op.batch_alter_table("status_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_session_expires_at"), ["expires_at"], unique=False
        )
