"""staff sessions on the server; login throttling instead of lockout

Staff logins become rows (``staff_session``): logout, timeouts and "log out everywhere" delete
them, so a copied cookie stops working. The lockout (``user.failed_logins``/``locked_until``),
which let anyone lock an account, gives way to a per-address queue (``login_throttle``), and the
session generation counter is no longer needed. Existing logins end with this upgrade (their
cookies have no server-side row): everyone logs in once more.

Revision ID: 5e1f0c2a9b7d
Revises: fff25083a049
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5e1f0c2a9b7d"
down_revision = "fff25083a049"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_staff_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
    )
    with op.batch_alter_table("staff_session") as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_session_user_id"), ["user_id"])
        batch_op.create_index(batch_op.f("ix_staff_session_expires_at"), ["expires_at"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_window_started_at"), ["window_started_at"]
        )
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("session_generation")
    # Unlocked keys of logins from before belong to cookies that no longer open anything.
    op.execute("DELETE FROM session_key")


def downgrade() -> None:
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("login_throttle") as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_window_started_at"))
    op.drop_table("login_throttle")
    with op.batch_alter_table("staff_session") as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_staff_session_user_id"))
    op.drop_table("staff_session")
