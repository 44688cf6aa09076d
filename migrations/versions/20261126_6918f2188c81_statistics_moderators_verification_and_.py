"""statistics: the moderators' verification and a summary of their coding on the incident

``verification`` keeps the moderators' decision after a case is closed (``state`` then only says
"closed"); ``coded_land``/``coded_town``/``coded_place_type``/``coded_target`` summarise the
moderators' ``case_code`` rows so that statistics read one row per incident. Existing rows are
filled from the state, ``verified_on`` and ``case_code``. A case closed before this revision
without having been verified cannot tell "not verifiable" from "out of scope": it stays NULL and
is not counted, which errs on the side of publishing less.

Revision ID: 6918f2188c81
Revises: 3c5d8d5f778d
Create Date: 2026-11-26 22:08:18
"""

import sqlalchemy as sa
from alembic import op

revision = "6918f2188c81"
down_revision = "3c5d8d5f778d"
branch_labels = None
depends_on = None

CODED_COLUMNS = {
    "coded_land": "land",
    "coded_town": "town",
    "coded_place_type": "place_type",
    "coded_target": "target",
}


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verification", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("coded_land", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("coded_town", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("coded_place_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("coded_target", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_incident_verification_duplicate_of",
            ["verification", "duplicate_of"],
            unique=False,
        )
    op.execute(
        "UPDATE incident SET verification = state"
        " WHERE state IN ('verified', 'not_verifiable', 'out_of_scope')"
    )
    op.execute(
        "UPDATE incident SET verification = 'verified'"
        " WHERE state = 'closed' AND verified_on IS NOT NULL"
    )
    for column, question in CODED_COLUMNS.items():
        op.execute(
            f"UPDATE incident SET {column} = (SELECT MIN(case_code.code) FROM case_code"  # noqa: S608 - constant names
            f" WHERE case_code.incident_id = incident.id AND case_code.question = '{question}')"
        )


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_verification_duplicate_of")
        batch_op.drop_column("coded_target")
        batch_op.drop_column("coded_place_type")
        batch_op.drop_column("coded_town")
        batch_op.drop_column("coded_land")
        batch_op.drop_column("verification")
