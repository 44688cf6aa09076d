"""Keys at rest: organisation public keys, holders' slots, grants, and unlocked staff sessions.

Nothing here opens anything by itself: private keys exist only wrapped (to a holder's public key,
under a password-derived key, or under a secret that lives in a staff member's cookie).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class OrgKey(Base):
    """One organisation key pair: reports are sealed to its public key.

    ``state``: ``active`` (the one in use), ``next`` (being rotated in: new reports already use
    it), ``retired`` (no report and no grant refers to it any more).
    """

    __tablename__ = "org_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_on: Mapped[dt.date] = mapped_column(Date)

    grants: Mapped[list[KeyGrant]] = relationship(
        back_populates="org_key", cascade="all, delete-orphan", passive_deletes=True
    )


class KeySlot(Base):
    """A holder of the organisation key: a staff account (``password``) or the ``recovery`` key."""

    __tablename__ = "key_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str] = mapped_column(String(254))
    # The staff account this slot belongs to; removing the account removes its slot.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    kdf_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    kdf_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sealed_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_on: Mapped[dt.date] = mapped_column(Date)

    grants: Mapped[list[KeyGrant]] = relationship(
        back_populates="slot", cascade="all, delete-orphan", passive_deletes=True
    )


class KeyGrant(Base):
    """The organisation private key ``org_key`` wrapped to the public key of ``slot``."""

    __tablename__ = "key_grant"
    __table_args__ = (UniqueConstraint("org_key_id", "slot_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_key_id: Mapped[int] = mapped_column(ForeignKey("org_key.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("key_slot.id", ondelete="CASCADE"), index=True)
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)

    org_key: Mapped[OrgKey] = relationship(back_populates="grants")
    slot: Mapped[KeySlot] = relationship(back_populates="grants")


class SessionKey(Base):
    """A staff session's unlocked organisation keys, sealed under a secret held in its cookie."""

    __tablename__ = "session_key"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("key_slot.id", ondelete="CASCADE"), index=True)
    sealed_keys: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
