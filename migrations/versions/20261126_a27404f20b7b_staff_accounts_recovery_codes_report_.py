"""staff accounts (password, sealed TOTP, lockout), one-time recovery codes, report retention

Revision ID: a27404f20b7b
Revises: d98b5bf5a0fe
Create Date: 2026-11-26 20:33:50
"""

import sqlalchemy as sa
from alembic import op

revision = "a27404f20b7b"
down_revision = "d98b5bf5a0fe"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("password_salt", sa.LargeBinary(length=16), nullable=False),
        sa.Column("password_params", sa.JSON(), nullable=False),
        sa.Column("password_verifier", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sealed_totp_secret", sa.LargeBinary(), nullable=False),
        sa.Column("last_totp_step", sa.Integer(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_generation", sa.Integer(), nullable=False),
        sa.Column("notify_new_reports", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["user.id"], name=op.f("fk_user_invited_by_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("email", name=op.f("uq_user_email")),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_recovery_code_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_code_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("key_slot", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_key_slot_account_id_user"),
            "user",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_deadline", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("purged_on", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_report_retention_deadline"), ["retention_deadline"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_retention_deadline"))
        batch_op.drop_column("purged_on")
        batch_op.drop_column("retention_deadline")

    with op.batch_alter_table("key_slot", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_key_slot_account_id_user"), type_="foreignkey")

    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_code_user_id"))

    op.drop_table("recovery_code")
    op.drop_table("user")
