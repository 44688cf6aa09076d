"""a second factor counts only once confirmed with one current code

``user.totp_confirmed_on`` (the day its holder typed a code from the new authenticator entry)
and ``user.totp_enrolment_key`` (the server's half of the enrolment ticket, erased at the
confirmation). Accounts from before used their second factor already: they count as confirmed
on the day they were created.

Revision ID: c4e8a1f9d2b6
Revises: 2d6c9e4b8a17
Create Date: 2026-12-01 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c4e8a1f9d2b6"
down_revision = "2d6c9e4b8a17"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(sa.Column("totp_confirmed_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("totp_enrolment_key", sa.LargeBinary(length=32), nullable=True)
        )
    op.execute('UPDATE "user" SET totp_confirmed_on = created_on')


def downgrade() -> None:
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("totp_enrolment_key")
        batch_op.drop_column("totp_confirmed_on")
