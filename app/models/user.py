"""Staff accounts: admins, moderators and researchers. Reporters never have one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.config import DEFAULT_LANGUAGE
from app.models.base import Base

ADMIN, MODERATOR, RESEARCHER = "admin", "moderator", "researcher"
ROLES = (ADMIN, MODERATOR, RESEARCHER)


class User(Base):
    """A staff account.

    The password is checked with Argon2id (salt and parameters stored beside the verifier, so
    they can be raised). The TOTP secret is sealed under a key derived from the same password,
    so a copy of the database holds no usable second factor. Admins and moderators also hold a
    key slot (``key_slot.account_id``) that opens the reports; researchers never do.

    A new second factor counts only once its holder has typed one current code from it
    (``totp_confirmed_on``); until then the account cannot log in. ``totp_enrolment_key`` is
    the server's half of the enrolment ticket in the enrolling browser's cookie (the TOTP secret
    sealed under it), so the enrolment page can show the QR code again and check the code without
    asking for the password; it is erased at the confirmation.
    """

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2), default=DEFAULT_LANGUAGE)
    password_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    password_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    password_verifier: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed_totp_secret: Mapped[bytes] = mapped_column(LargeBinary)
    last_totp_step: Mapped[int | None] = mapped_column(Integer)  # refuses a reused code
    totp_confirmed_on: Mapped[dt.date | None] = mapped_column(Date)
    totp_enrolment_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    notify_new_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_on: Mapped[dt.date] = mapped_column(Date)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class StaffSession(Base):
    """A staff login, held on the server: the cookie carries only a random token.

    ``id`` is the SHA-256 of that token, so a copy of the database cannot be turned into a
    working cookie. Logout deletes the row; expiry (absolute and idle) and "log out everywhere"
    end it on the server, so a copied cookie is worthless afterwards.
    """

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginThrottle(Base):
    """Recent login attempts for one typed e-mail address, known account or not.

    ``key`` is a keyed hash of the address (never the address), so throttling treats unknown
    addresses exactly like accounts and reveals nothing. ``next_attempt_at`` is the earliest
    moment the next attempt is checked: attempts queue behind each other instead of locking the
    account, so its holder always gets in with the right password and code.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # since the last success
    window_started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryCode(Base):
    """A one-time second-factor code, stored as a hash; used once, then deleted."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))


class Invitation(Base):
    """A one-time link an admin sends to a new staff member; only a hash of its token is kept."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_on: Mapped[dt.date | None] = mapped_column(Date)
