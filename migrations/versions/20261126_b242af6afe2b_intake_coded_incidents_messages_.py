"""intake: coded incidents, messages, submissions, status sessions

Revision ID: b242af6afe2b
Revises: 708b538edb41
Create Date: 2026-11-26 19:50:41
"""

import sqlalchemy as sa
from alembic import op

revision = "b242af6afe2b"
down_revision = "708b538edb41"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("codebook_version", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("date_kind", sa.String(length=16), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("time_of_day", sa.String(length=16), nullable=True),
        sa.Column("land", sa.String(length=2), nullable=False),
        sa.Column("town", sa.String(length=64), nullable=True),
        sa.Column("place_type", sa.String(length=32), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("most_severe_type", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("perpetrator_count", sa.String(length=16), nullable=True),
        sa.Column("perpetrator_known", sa.String(length=16), nullable=True),
        sa.Column("support_wished", sa.String(length=32), nullable=True),
        sa.Column("consent_publication", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_incident_report_id_report"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("report_id", name=op.f("uq_incident_report_id")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_date_from"), ["date_from"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_land"), ["land"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_incident_most_severe_type"), ["most_severe_type"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_reported_on"), ["reported_on"], unique=False)
        batch_op.create_index("ix_incident_state_id", ["state", "id"], unique=False)

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sealed_body", sa.LargeBinary(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_message_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("report_id", "number", name=op.f("uq_message_report_id_number")),
    )
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

    op.create_table(
        "submission",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_submission_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_submission")),
    )
    op.create_table(
        "incident_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_code_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_code")),
        sa.UniqueConstraint(
            "incident_id",
            "question",
            "code",
            name=op.f("uq_incident_code_incident_id_question_code"),
        ),
    )
    with op.batch_alter_table("incident_code", schema=None) as batch_op:
        batch_op.create_index("ix_incident_code_question_code", ["question", "code"], unique=False)

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        # Attachments stored before this revision were all sealed with the report's data key.
        batch_op.add_column(
            sa.Column("sealed_with", sa.String(length=16), nullable=False, server_default="report")
        )

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("codebook_version", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("codebook_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("deletion_requested_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("deletion_requested_on")
        batch_op.drop_column("codebook_hash")
        batch_op.drop_column("codebook_version")

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("sealed_with")

    with op.batch_alter_table("incident_code", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_code_question_code")

    op.drop_table("incident_code")
    op.drop_table("submission")
    with op.batch_alter_table("status_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_session_expires_at"))

    op.drop_table("status_session")
    op.drop_table("message")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_state_id")
        batch_op.drop_index(batch_op.f("ix_incident_reported_on"))
        batch_op.drop_index(batch_op.f("ix_incident_most_severe_type"))
        batch_op.drop_index(batch_op.f("ix_incident_land"))
        batch_op.drop_index(batch_op.f("ix_incident_date_from"))

    op.drop_table("incident")
