"""audit tags named subject:action; status sessions sealed with a version byte

Two changes of stored values, no change of schema:

- The audit trail's tags were named in three formats (``case:assign``, ``case:state:change``,
  ``retention:report:purge``). They now have one, ``subject:action``, from one list
  (``app.audit.AuditTag``); events already written are renamed, so a filter finds old and new
  alike. The downgrade names them back.
- A reporter's status session is now sealed by the one sealed-session mechanism of
  ``app.crypto.sessions`` (version ‖ nonce ‖ ciphertext). Rows sealed the old way can never open
  again, and their secrets exist only in cookies, so they are removed — both ways, as
  fff25083a049 did: the person types the receipt code again.

Revision ID: 2d6c9e4b8a17
Revises: b7a4e2d91c35
Create Date: 2026-12-01 19:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "2d6c9e4b8a17"
down_revision = "b7a4e2d91c35"
branch_labels = None
depends_on = None

# (before, after); a frozen copy, so that later changes of the enum cannot change this step.
RENAMED = [
    ("account:user:create", "account:create"),
    ("account:user:remove", "account:remove"),
    ("account:user:reset", "account:reset"),
    ("account:invitation:create", "invitation:create"),
    ("api:token:create", "api_token:create"),
    ("api:token:revoke", "api_token:revoke"),
    ("auth:login:success", "login:success"),
    ("auth:login:failure", "login:failure"),
    ("auth:recovery-code:use", "recovery_code:use"),
    ("auth:logout:everywhere", "sessions:end_everywhere"),
    ("case:state:change", "case:change_state"),
    ("case:coding:change", "case:code"),
    ("case:note:add", "case:add_note"),
    ("case:message:send", "case:send_message"),
    ("case:duplicate:link", "case:link_duplicate"),
    ("case:deletion:honour", "case:honour_deletion"),
    ("key:org:init", "org_key:init"),
    ("key:org:rotate-start", "org_key:start_rotation"),
    ("key:org:rotate", "org_key:rotate"),
    ("key:slot:add", "key_slot:add"),
    ("key:slot:grant", "key_slot:grant"),
    ("key:slot:password", "key_slot:change_password"),
    ("key:slot:recover", "key_slot:recover"),
    ("key:slot:remove", "key_slot:remove"),
    ("retention:report:purge", "report:purge"),
    ("report:deletion:honour", "report:honour_deletion"),
]

audit_event = sa.table("audit_event", sa.column("tag", sa.String(64)))


def _rename(pairs: list[tuple[str, str]]) -> None:
    for before, after in pairs:
        op.execute(audit_event.update().where(audit_event.c.tag == before).values(tag=after))


def upgrade() -> None:
    _rename(RENAMED)
    op.execute(sa.text("DELETE FROM status_session"))


def downgrade() -> None:
    _rename([(after, before) for before, after in RENAMED])
    op.execute(sa.text("DELETE FROM status_session"))
