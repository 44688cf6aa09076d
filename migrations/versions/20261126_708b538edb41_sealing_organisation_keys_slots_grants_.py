"""sealing: organisation keys, key slots and grants, unlocked sessions, sealed reports

Revision ID: 708b538edb41
Revises: 7cbd32c4ac37
Create Date: 2026-11-26 19:36:57
"""

import sqlalchemy as sa
from alembic import op

revision = "708b538edb41"
down_revision = "7cbd32c4ac37"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=254), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kdf_salt", sa.LargeBinary(length=16), nullable=True),
        sa.Column("kdf_params", sa.JSON(), nullable=True),
        sa.Column("sealed_private_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_slot")),
    )
    with op.batch_alter_table("key_slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_slot_account_id"), ["account_id"], unique=False)

    op.create_table(
        "org_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_key")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_org_key_fingerprint")),
    )
    with op.batch_alter_table("org_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_key_state"), ["state"], unique=False)

    op.create_table(
        "key_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_key_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("wrapped_private_key", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_key_id"],
            ["org_key.id"],
            name=op.f("fk_key_grant_org_key_id_org_key"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["key_slot.id"],
            name=op.f("fk_key_grant_slot_id_key_slot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_grant")),
        sa.UniqueConstraint("org_key_id", "slot_id", name=op.f("uq_key_grant_org_key_id_slot_id")),
    )
    with op.batch_alter_table("key_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_grant_slot_id"), ["slot_id"], unique=False)

    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_lookup", sa.String(length=64), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("org_key_id", sa.Integer(), nullable=False),
        sa.Column("wrapped_data_key", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped_mailbox_key", sa.LargeBinary(), nullable=True),
        sa.Column("receipt_salt", sa.LargeBinary(length=16), nullable=False),
        sa.Column("receipt_wrapped_mailbox_key", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_key_id"], ["org_key.id"], name=op.f("fk_report_org_key_id_org_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("receipt_lookup", name=op.f("uq_report_receipt_lookup")),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_org_key_id"), ["org_key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_submitted_on"), ["submitted_on"], unique=False)

    op.create_table(
        "session_key",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("sealed_keys", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["key_slot.id"],
            name=op.f("fk_session_key_slot_id_key_slot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_key")),
    )
    with op.batch_alter_table("session_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_key_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_session_key_slot_id"), ["slot_id"], unique=False)

    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sealed_image", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_metadata", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_attachment_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("report_id", "position", name=op.f("uq_attachment_report_id_position")),
    )
    op.create_table(
        "report_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_report_field_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_field")),
        sa.UniqueConstraint("report_id", "name", name=op.f("uq_report_field_report_id_name")),
    )


def downgrade() -> None:
    op.drop_table("report_field")
    op.drop_table("attachment")
    with op.batch_alter_table("session_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_key_slot_id"))
        batch_op.drop_index(batch_op.f("ix_session_key_expires_at"))

    op.drop_table("session_key")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_submitted_on"))
        batch_op.drop_index(batch_op.f("ix_report_org_key_id"))

    op.drop_table("report")
    with op.batch_alter_table("key_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_grant_slot_id"))

    op.drop_table("key_grant")
    with op.batch_alter_table("org_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_key_state"))

    op.drop_table("org_key")
    with op.batch_alter_table("key_slot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_slot_account_id"))

    op.drop_table("key_slot")
