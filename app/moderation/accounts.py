"""Staff accounts: passwords, the TOTP second factor, recovery codes.

The rules live here (strength, one use per code, the last admin, audit); the secrets themselves
are derived, sealed and checked in ``app.crypto.credentials``.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from app.audit import AuditTag, record_event
from app.auth.staff_sessions import end_staff_sessions_of
from app.config import DEFAULT_LANGUAGE
from app.crypto import credentials
from app.crypto.credentials import TOTP_DIGITS, hash_recovery_code
from app.crypto.kdf import KdfParams
from app.crypto.keyring import UnlockedKeys, add_password_slot, password_slot_of
from app.crypto.sessions import end_sessions_of_slot
from app.extensions import db
from app.models import RecoveryCode, User
from app.models.user import ADMIN, MODERATOR, ROLES

RECOVERY_CODES = 10
RECOVERY_CHARACTERS = 16  # 80 bits each
MIN_PASSWORD, MAX_PASSWORD = 12, 128
ISSUER = "Meldeportal"
COMMON_PASSWORDS_FILE = Path(__file__).parent / "common_passwords.txt"
UNKNOWN_ROLE = _l("Diese Rolle gibt es nicht.")
TAKEN_EMAIL = _l("Es gibt schon ein Konto mit dieser E-Mail-Adresse.")


class AccountError(ValueError):
    """An account operation is refused. ``str()`` is English, for the command line;
    ``message`` says the same in the request's language, for the staff pages."""

    def __init__(self, english: str, *, message: object) -> None:
        super().__init__(english)
        self.text = message  # a lazy text, read in the request that shows it

    @property
    def message(self) -> str:
        return str(self.text)


class WeakPassword(AccountError):
    pass


class LoginRefused(Exception):
    """Wrong e-mail, password or code — one answer for all, so nothing is revealed."""


class LastAdmin(AccountError):
    pass


@dataclass(frozen=True)
class Enrolment:
    """What a new account holder needs once: the authenticator URI and recovery codes."""

    user: User
    provisioning_uri: str
    recovery_codes: list[str]

    def __repr__(self) -> str:
        return f"Enrolment(user={self.user.id})"


def _common_passwords() -> frozenset[str]:
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").split())


def check_password_strength(password: str, email: str = "") -> None:
    """Raises: WeakPassword with a message that says what to change."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise WeakPassword(
            f"The password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters.",
            message=_l("Das Passwort braucht %(min)s bis %(max)s Zeichen.",
                       min=MIN_PASSWORD, max=MAX_PASSWORD),
        )  # fmt: skip
    lowered = password.lower()
    name = email.split("@")[0].lower()
    # A name of a few letters is in many good passwords by chance; only longer ones count.
    if lowered in _common_passwords() or (len(name) >= 4 and name in lowered):
        raise WeakPassword(
            "This password is too common or contains the e-mail name.",
            message=_l(
                "Dieses Passwort ist zu verbreitet oder enthält den Namen der E-Mail-Adresse."
            ),
        )


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    fresh = [credentials.new_recovery_code(RECOVERY_CHARACTERS) for _ in range(RECOVERY_CODES)]
    for code in fresh:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(code)))
    return fresh


def _set_credentials(user: User, password: str, params: KdfParams) -> str:
    """New password and a new TOTP secret (a reset always re-enrols the second factor)."""
    user.password_salt = credentials.new_salt()
    user.password_params = params.to_dict()
    derived = credentials.derive_login_secrets(password, user.password_salt, params)
    user.password_verifier = derived.verifier
    secret = credentials.new_totp_secret()
    user.sealed_totp_secret = credentials.seal_totp_secret(secret, derived.totp_key, user.email)
    user.last_totp_step = None
    return credentials.provisioning_uri(secret, user.email, ISSUER)


def create_user(
    email: str,
    role: str,
    password: str,
    *,
    today: dt.date,
    params: KdfParams,
    unlocked: UnlockedKeys | None = None,
    actor_id: int | None = None,
    language: str = DEFAULT_LANGUAGE,
    pending_slot: bool = False,
) -> Enrolment:
    """Create a staff account; admins and moderators also get a key slot.

    ``pending_slot``: the slot is created empty and a key holder grants it later (invitations).

    Raises:
        AccountError: unknown role, taken e-mail, weak password, or a key holder without keys.
    """
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(
            f"Unknown role {role!r}; use one of {', '.join(ROLES)}.", message=UNKNOWN_ROLE
        )
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("An account with this e-mail address exists.", message=TAKEN_EMAIL)
    check_password_strength(password, email)
    if role in (ADMIN, MODERATOR) and unlocked is None and not pending_slot:
        raise AccountError(
            "Admins and moderators need a key slot: unlock the keys first.",
            message=_l("Admin- und Moderationskonten brauchen Schlüssel: bitte zuerst entsperren."),
        )
    user = User(email=email, role=role, language=language, created_on=today, invited_by=actor_id)
    uri = _set_credentials(user, password, params)
    db.session.add(user)
    db.session.flush()
    if role in (ADMIN, MODERATOR):
        add_password_slot(email, password, unlocked, today=today, account_id=user.id,
                          params=params, actor_id=actor_id)  # fmt: skip
    recovery = _new_recovery_codes(user)
    record_event(AuditTag.ACCOUNT_CREATE, f"account created with role {role}", actor_id=actor_id,
                 target_type="user", target_id=user.id, details={"role": role})  # fmt: skip
    return Enrolment(user, uri, recovery)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def authenticate(
    email: str, password: str, code: str, *, params: KdfParams, now: dt.datetime | None = None
) -> User:
    """Check password and second factor (a TOTP code or a one-time recovery code).

    An unknown or inactive address costs the same derivation (with ``params``, the cost of new
    passwords) and writes the same failure event as a wrong password, so neither the answer nor
    its timing tells which accounts exist. Nothing here locks an account: throttling is the
    caller's (``app.moderation.throttle``).

    Raises:
        LoginRefused: for any wrong part, with no hint which.
    """
    now = now or _now()
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active:
        credentials.derive_login_secrets(password, b"\0" * credentials.SALT_BYTES, params)
        credentials.open_totp_secret(b"\0" * 49, b"\0" * 32, "")
        record_event(AuditTag.LOGIN_FAILURE, "login failed", target_type="user")
        raise LoginRefused
    derived = credentials.derive_login_secrets(
        password, user.password_salt, KdfParams.from_dict(user.password_params)
    )
    if not hmac.compare_digest(derived.verifier, user.password_verifier) or not _second_factor(
        user, derived.totp_key, code, now
    ):
        record_event(AuditTag.LOGIN_FAILURE, "login failed", target_type="user", target_id=user.id)
        raise LoginRefused
    record_event(AuditTag.LOGIN_SUCCESS, "login", actor_id=user.id, target_type="user",
                 target_id=user.id)  # fmt: skip
    return user


def _second_factor(user: User, totp_key: bytes, code: str, now: dt.datetime) -> bool:
    digits = "".join(char for char in code if char.isdigit())
    if len(digits) == TOTP_DIGITS and len(code.strip()) <= TOTP_DIGITS + 1:
        secret = credentials.open_totp_secret(user.sealed_totp_secret, totp_key, user.email)
        if secret is None:
            return False
        step = credentials.totp_step(now.timestamp())
        for candidate in (step, step - 1, step + 1):  # one step of clock drift either way
            if user.last_totp_step is not None and candidate <= user.last_totp_step:
                continue  # a code is never accepted twice
            if credentials.totp_matches(secret, digits, candidate):
                user.last_totp_step = candidate
                if credentials.is_legacy_totp_seal(user.sealed_totp_secret):
                    user.sealed_totp_secret = credentials.seal_totp_secret(
                        secret, totp_key, user.email
                    )
                return True
        return False
    used = db.session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == hash_recovery_code(code)
        )
    ).first()
    if used is None:
        return False
    db.session.delete(used)
    record_event(AuditTag.RECOVERY_CODE_USE, "recovery code used", actor_id=user.id,
                 target_type="user", target_id=user.id)  # fmt: skip
    return True


def log_out_everywhere(user: User) -> None:
    """Every session of this account ends now, on every device."""
    end_staff_sessions_of(user)
    slot = password_slot_of(user.email)
    if slot is not None:
        end_sessions_of_slot(slot.id)
    record_event(AuditTag.SESSIONS_END_EVERYWHERE, "logged out everywhere", actor_id=user.id,
                 target_type="user", target_id=user.id)  # fmt: skip


def remove_user(user: User, *, actor_id: int) -> None:
    """Delete an account and its key slot.

    Raises:
        LastAdmin: the last active admin cannot be removed.
    """
    if user.role == ADMIN:
        admins = db.session.scalar(
            select(func.count(User.id)).where(User.role == ADMIN, User.active.is_(True))
        )
        if (admins or 0) <= 1:
            raise LastAdmin(
                "The last admin cannot be removed.",
                message=_l("Das letzte Admin-Konto kann nicht entfernt werden."),
            )
    record_event(AuditTag.ACCOUNT_REMOVE, "account removed", actor_id=actor_id,
                 target_type="user", target_id=user.id)  # fmt: skip
    db.session.delete(user)


def reset_credentials(user: User, password: str, *, today: dt.date, params: KdfParams) -> Enrolment:
    """A new password, second factor and recovery codes for an existing account.

    The old key slot was sealed under the forgotten password and opens for nobody now: it is
    replaced by a pending slot that a key holder grants again. Every session of the account ends.

    Raises:
        WeakPassword: for a weak password.
    """
    check_password_strength(password, user.email)
    uri = _set_credentials(user, password, params)
    old_slot = password_slot_of(user.email)
    if old_slot is not None:
        end_sessions_of_slot(old_slot.id)
        db.session.delete(old_slot)
        db.session.flush()
    if user.role in (ADMIN, MODERATOR):
        add_password_slot(user.email, password, None, today=today, account_id=user.id,
                          params=params)  # fmt: skip
    end_staff_sessions_of(user)
    recovery = _new_recovery_codes(user)
    record_event(AuditTag.ACCOUNT_RESET, "password and second factor reset", target_type="user",
                 target_id=user.id)  # fmt: skip
    return Enrolment(user, uri, recovery)
