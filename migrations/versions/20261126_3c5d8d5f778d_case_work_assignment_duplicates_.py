"""case work: assignment, duplicates, moderators' coding, sealed notes, queue indexes

The incident gets the case columns (assigned person, duplicate of, verified and closed days, a
summary of the moderators' coding); ``case_code`` holds the moderators' classification beside the
reporter's, ``case_note`` the sealed internal notes. The queue's filters each get an index ending
in ``id`` so that its newest-first keyset pages read only matching rows.

Revision ID: 3c5d8d5f778d
Revises: a53c885ec389
Create Date: 2026-11-26 20:45:32
"""

import sqlalchemy as sa
from alembic import op

revision = "3c5d8d5f778d"
down_revision = "a53c885ec389"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_case_code_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_code")),
        sa.UniqueConstraint(
            "incident_id", "question", "code", name=op.f("uq_case_code_incident_id_question_code")
        ),
    )
    with op.batch_alter_table("case_code", schema=None) as batch_op:
        batch_op.create_index("ix_case_code_question_code", ["question", "code"], unique=False)

    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sealed_body", sa.LargeBinary(), nullable=False),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_case_note_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_case_note_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_note")),
        sa.UniqueConstraint("incident_id", "number", name=op.f("uq_case_note_incident_id_number")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("verified_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("coded_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("coded_codebook_version", sa.String(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column("coded_most_severe_type", sa.String(length=32), nullable=True)
        )
        batch_op.create_index("ix_incident_assigned_to_id", ["assigned_to", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_incident_duplicate_of"), ["duplicate_of"], unique=False
        )
        batch_op.create_index("ix_incident_land_id", ["land", "id"], unique=False)
        batch_op.create_index(
            "ix_incident_most_severe_type_id", ["most_severe_type", "id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_incident_assigned_to_user"),
            "user",
            ["assigned_to"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_incident_duplicate_of_incident"),
            "incident",
            ["duplicate_of"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_incident_duplicate_of_incident"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_incident_assigned_to_user"), type_="foreignkey")
        batch_op.drop_index("ix_incident_most_severe_type_id")
        batch_op.drop_index("ix_incident_land_id")
        batch_op.drop_index(batch_op.f("ix_incident_duplicate_of"))
        batch_op.drop_index("ix_incident_assigned_to_id")
        batch_op.drop_column("coded_most_severe_type")
        batch_op.drop_column("coded_codebook_version")
        batch_op.drop_column("coded_on")
        batch_op.drop_column("closed_on")
        batch_op.drop_column("verified_on")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("assigned_to")

    op.drop_table("case_note")
    with op.batch_alter_table("case_code", schema=None) as batch_op:
        batch_op.drop_index("ix_case_code_question_code")

    op.drop_table("case_code")
