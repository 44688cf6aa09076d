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
MIN_DIFFERENT_CHARACTERS = 5
ISSUER = "Meldeportal"
COMMON_PASSWORDS_FILE = Path(__file__).parent / "common_passwords.txt"
UNKNOWN_ROLE = _l("Diese Rolle gibt es nicht.")
TAKEN_EMAIL = _l("Es gibt schon ein Konto mit dieser E-Mail-Adresse.")


# What an account can do now (the admin's accounts page shows it).
ACTIVE, WAITING_FOR_KEYS, WAITING_FOR_CONFIRMATION = "active", "waiting_for_keys", "unconfirmed"


def account_state(user: User, *, slot_pending: bool) -> str:
    """``WAITING_FOR_CONFIRMATION`` until the second factor is confirmed (no login at all),
    then ``WAITING_FOR_KEYS`` while a key holder's slot is not granted, else ``ACTIVE``."""
    if user.totp_confirmed_on is None:
        return WAITING_FOR_CONFIRMATION
    if slot_pending and user.role in (ADMIN, MODERATOR):
        return WAITING_FOR_KEYS
    return ACTIVE


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
    """A password the rules refuse; ``rule`` names the rule it broke (one message each)."""

    def __init__(self, rule: str, english: str, *, message: object) -> None:
        super().__init__(english, message=message)
        self.rule = rule


class WrongCode(AccountError):
    """The code typed to confirm a new second factor is not its current one."""


class EnrolmentGone(AccountError):
    """The enrolment ticket belongs to no unconfirmed second factor (confirmed or reset since)."""


class LoginRefused(Exception):
    """Wrong e-mail, password or code — one answer for all, so nothing is revealed."""


class LastAdmin(AccountError):
    pass


@dataclass(frozen=True)
class Enrolment:
    """What a new account holder needs once: the authenticator URI (the QR code's content), the
    secret written out for typing, and recovery codes. ``ticket`` is the cookie half of the
    enrolment ticket while the second factor waits for its confirmation (else None)."""

    user: User
    provisioning_uri: str
    secret_text: str
    recovery_codes: list[str]
    ticket: bytes | None = None

    def __repr__(self) -> str:
        return f"Enrolment(user={self.user.id})"


def _common_passwords() -> frozenset[str]:
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").split())


def check_password_strength(password: str, email: str = "") -> None:
    """The password rules, one refusal per rule, checked in this order (the same for the staff
    pages and ``flask users create``).

    Raises: WeakPassword whose ``rule`` is "too_short", "too_long", "email", "email_name",
        "too_few_characters" or "common", with a message that says what to change.
    """
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(
            "too_short", f"The password is too short: it needs at least {MIN_PASSWORD} characters.",
            message=_l("Das Passwort ist zu kurz: es braucht mindestens %(min)s Zeichen.",
                       min=MIN_PASSWORD),
        )  # fmt: skip
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(
            "too_long", f"The password is too long: it may have at most {MAX_PASSWORD} characters.",
            message=_l("Das Passwort ist zu lang: es darf höchstens %(max)s Zeichen haben.",
                       max=MAX_PASSWORD),
        )  # fmt: skip
    lowered = password.lower()
    address = email.strip().lower()
    name = address.split("@")[0]
    if address and address in lowered:
        raise WeakPassword(
            "email", "The password must not be or contain the e-mail address.",
            message=_l("Das Passwort darf nicht die E-Mail-Adresse sein oder enthalten."),
        )  # fmt: skip
    # A name of a few letters is in many good passwords by chance; only longer ones count.
    if len(name) >= 4 and name in lowered:
        raise WeakPassword(
            "email_name", "The password must not contain the name of the e-mail address.",
            message=_l("Das Passwort darf den Namen aus der E-Mail-Adresse (%(name)s) nicht "
                       "enthalten.", name=name),
        )  # fmt: skip
    if len(set(lowered)) < MIN_DIFFERENT_CHARACTERS:
        raise WeakPassword(
            "too_few_characters",
            f"The password repeats too few characters: use at least {MIN_DIFFERENT_CHARACTERS} "
            "different ones.",
            message=_l("Das Passwort wiederholt zu wenige Zeichen: bitte mindestens %(count)s "
                       "verschiedene.", count=MIN_DIFFERENT_CHARACTERS),
        )  # fmt: skip
    if lowered in _common_passwords():
        raise WeakPassword(
            "common", "This password is on the list of common passwords.",
            message=_l("Dieses Passwort steht auf der Liste häufiger Passwörter."),
        )  # fmt: skip


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    fresh = [credentials.new_recovery_code(RECOVERY_CHARACTERS) for _ in range(RECOVERY_CODES)]
    for code in fresh:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(code)))
    return fresh


@dataclass(frozen=True)
class ConfirmedSecret:
    """A new TOTP secret whose holder has typed its code of ``step`` (``confirm_new_secret``)."""

    secret: bytes
    step: int

    def __repr__(self) -> str:
        return f"ConfirmedSecret(step={self.step})"


def _matching_step(secret: bytes, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The time step whose code ``code`` is (one step of clock drift either way), never one
    at or before ``last_step``: a code is accepted once."""
    digits = "".join(char for char in code if char.isdigit())
    if len(digits) != TOTP_DIGITS or len(code.strip()) > TOTP_DIGITS + 1:
        return None
    step = credentials.totp_step(now.timestamp())
    for candidate in (step, step - 1, step + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if credentials.totp_matches(secret, digits, candidate):
            return candidate
    return None


WRONG_CODE = _l(
    "Dieser Code passt nicht. Bitte geben Sie den Code ein, den die Authenticator-App gerade "
    "für das Meldeportal zeigt (6 Ziffern), und prüfen Sie, ob die Uhrzeit des Telefons stimmt."
)


def confirm_new_secret(secret: bytes, code: str, *, now: dt.datetime) -> ConfirmedSecret:
    """Check one current code of a secret that is not stored yet (``flask users create``).

    Raises:
        WrongCode: the code is not the secret's current one.
    """
    step = _matching_step(secret, code, now, None)
    if step is None:
        raise WrongCode("This code does not fit: type the current one.", message=WRONG_CODE)
    return ConfirmedSecret(secret, step)


def _confirmed(user: User, step: int, today: dt.date) -> None:
    """The second factor counts from now; the enrolment ticket opens nothing any more."""
    user.totp_confirmed_on = today
    user.totp_enrolment_key = None
    user.last_totp_step = step
    record_event(AuditTag.ACCOUNT_CONFIRM_SECOND_FACTOR, "second factor confirmed",
                 actor_id=user.id, target_type="user", target_id=user.id)  # fmt: skip


def _set_credentials(
    user: User, password: str, params: KdfParams, confirmed: ConfirmedSecret | None = None
) -> bytes:
    """New password and TOTP secret (a reset always re-enrols the second factor).

    Unless ``confirmed``, the new factor waits for one current code before the account can log
    in (``_enrolment`` makes its ticket).
    """
    user.password_salt = credentials.new_salt()
    user.password_params = params.to_dict()
    derived = credentials.derive_login_secrets(password, user.password_salt, params)
    user.password_verifier = derived.verifier
    secret = confirmed.secret if confirmed else credentials.new_totp_secret()
    user.sealed_totp_secret = credentials.seal_totp_secret(secret, derived.totp_key, user.email)
    user.last_totp_step = None
    user.totp_confirmed_on = None
    user.totp_enrolment_key = None
    return secret


def _enrolment(user: User, secret: bytes, recovery: list[str]) -> Enrolment:
    """What to show once; for an unconfirmed factor with the ticket that shows it again.

    The ticket seals the recovery codes with the secret, so a page that asks again for the code
    (a wrong one was typed) shows the codes again too, until the confirmation.
    """
    ticket = None
    if user.totp_confirmed_on is None:
        payload = secret + "\n".join(recovery).encode()
        user.totp_enrolment_key, ticket = credentials.seal_enrolment(payload, user.email)
    uri = credentials.provisioning_uri(secret, user.email, ISSUER)
    return Enrolment(user, uri, credentials.secret_text(secret), recovery, ticket)


def new_secret_for(email: str) -> tuple[bytes, str, str]:
    """A fresh TOTP secret, its otpauth URI and its text, before any account exists (the
    command line shows them and asks for a code before it writes anything)."""
    secret = credentials.new_totp_secret()
    uri = credentials.provisioning_uri(secret, email.strip().lower(), ISSUER)
    return secret, uri, credentials.secret_text(secret)


def check_new_account(email: str, role: str) -> None:
    """The checks ``create_user`` makes before its password rules, for asking early.

    Raises:
        AccountError: unknown role or taken e-mail.
    """
    if role not in ROLES:
        raise AccountError(
            f"Unknown role {role!r}; use one of {', '.join(ROLES)}.", message=UNKNOWN_ROLE
        )
    address = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == address)) is not None:
        raise AccountError("An account with this e-mail address exists.", message=TAKEN_EMAIL)


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
    second_factor: ConfirmedSecret | None = None,
) -> Enrolment:
    """Create a staff account; admins and moderators also get a key slot.

    ``pending_slot``: the slot is created empty and a key holder grants it later (invitations).
    ``second_factor``: a secret already confirmed with a current code (the command line);
    without it the account gets a new secret that waits for its confirmation
    (``confirm_enrolment``, or the first login with a code from it).

    Raises:
        AccountError: unknown role, taken e-mail, weak password, or a key holder without keys.
    """
    email = email.strip().lower()
    check_new_account(email, role)
    check_password_strength(password, email)
    if role in (ADMIN, MODERATOR) and unlocked is None and not pending_slot:
        raise AccountError(
            "Admins and moderators need a key slot: unlock the keys first.",
            message=_l("Admin- und Moderationskonten brauchen Schlüssel: bitte zuerst entsperren."),
        )
    user = User(email=email, role=role, language=language, created_on=today, invited_by=actor_id)
    secret = _set_credentials(user, password, params, second_factor)
    db.session.add(user)
    db.session.flush()
    if role in (ADMIN, MODERATOR):
        add_password_slot(email, password, unlocked, today=today, account_id=user.id,
                          params=params, actor_id=actor_id)  # fmt: skip
    recovery = _new_recovery_codes(user)
    record_event(AuditTag.ACCOUNT_CREATE, f"account created with role {role}", actor_id=actor_id,
                 target_type="user", target_id=user.id, details={"role": role})  # fmt: skip
    if second_factor is not None:
        _confirmed(user, second_factor.step, today)
    return _enrolment(user, secret, recovery)


def _open_ticket(user: User, ticket: bytes) -> tuple[bytes, list[str]] | None:
    if user.totp_confirmed_on is not None or user.totp_enrolment_key is None:
        return None
    payload = credentials.open_enrolment(user.totp_enrolment_key, ticket, user.email)
    if payload is None:
        return None
    secret = payload[: credentials.TOTP_SECRET_BYTES]
    return secret, payload[credentials.TOTP_SECRET_BYTES :].decode().split("\n")


def pending_enrolment(user: User, ticket: bytes) -> Enrolment | None:
    """An unconfirmed second factor shown again from the cookie half of its ticket; None once
    it is confirmed or replaced (the ticket opens nothing then)."""
    opened = _open_ticket(user, ticket)
    if opened is None:
        return None
    secret, recovery = opened
    uri = credentials.provisioning_uri(secret, user.email, ISSUER)
    return Enrolment(user, uri, credentials.secret_text(secret), recovery, ticket)


def confirm_enrolment(user: User, ticket: bytes, code: str, *, now: dt.datetime) -> None:
    """Confirm a new second factor with one current code; the account can log in from now.

    Raises:
        EnrolmentGone: the ticket opens no unconfirmed secret of this account.
        WrongCode: the code is not the secret's current one.
    """
    opened = _open_ticket(user, ticket)
    if opened is None:
        raise EnrolmentGone(
            "This enrolment is confirmed or was replaced.",
            message=_l("Diese Einrichtung ist schon bestätigt oder wurde ersetzt. Bitte melden "
                       "Sie sich an oder fragen Sie nach einem neuen Link."),
        )  # fmt: skip
    step = _matching_step(opened[0], code, now, user.last_totp_step)
    if step is None:
        raise WrongCode("This code does not fit: type the current one.", message=WRONG_CODE)
    _confirmed(user, step, now.date())


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
    """A TOTP code or, for a confirmed second factor only, a recovery code.

    A code from an unconfirmed secret confirms it (the person closed the enrolment page before
    confirming): it proves the authenticator holds the secret. A recovery code proves nothing
    about the authenticator, so it never opens an unconfirmed account.
    """
    digits = "".join(char for char in code if char.isdigit())
    if len(digits) == TOTP_DIGITS and len(code.strip()) <= TOTP_DIGITS + 1:
        secret = credentials.open_totp_secret(user.sealed_totp_secret, totp_key, user.email)
        if secret is None:
            return False
        step = _matching_step(secret, code, now, user.last_totp_step)
        if step is None:
            return False
        user.last_totp_step = step
        if credentials.is_legacy_totp_seal(user.sealed_totp_secret):
            user.sealed_totp_secret = credentials.seal_totp_secret(secret, totp_key, user.email)
        if user.totp_confirmed_on is None:
            _confirmed(user, step, now.date())
        return True
    if user.totp_confirmed_on is None:
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
    secret = _set_credentials(user, password, params)
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
    return _enrolment(user, secret, recovery)
