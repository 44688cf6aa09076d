"""A staff account's secrets: the password verifier, the sealed TOTP secret, recovery codes.

One Argon2id derivation per login yields both the password verifier and the key that opens the
account's TOTP secret, so a copy of the database holds neither a usable password hash (it is
Argon2id) nor a usable second factor. The rules around them (strength, reuse of a code, audit)
are the accounts service's; this module only derives, seals, opens and checks.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from app.crypto import codes
from app.crypto.envelope import NONCE_BYTES
from app.crypto.errors import SessionLocked
from app.crypto.kdf import KdfParams, derive_from_password
from app.crypto.sessions import SESSION_V1, new_session_secret, open_session, seal_session

TOTP_STEP = 30
TOTP_DIGITS = 6
TOTP_SECRET_BYTES = 20
SALT_BYTES = 16
VERIFIER_BYTES = KEY_BYTES = 32
TOTP_V1 = SESSION_V1
# Sealed in the one format of sealed sessions: version ‖ nonce ‖ ciphertext, kind and address bound.
TOTP_KIND = "totp"
# A new secret, sealed for the enrolling browser's cookie until its holder confirms it.
ENROLMENT_KIND = "totp-enrolment"
# Sealed before the version byte existed: nonce ‖ ciphertext of the 20-byte secret and its tag.
_LEGACY_LENGTH = NONCE_BYTES + TOTP_SECRET_BYTES + 16


@dataclass(frozen=True)
class LoginSecrets:
    """What one derivation from a password gives. Never logged."""

    verifier: bytes
    totp_key: bytes

    def __repr__(self) -> str:
        return "LoginSecrets(<hidden>)"


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def derive_login_secrets(password: str, salt: bytes, params: KdfParams) -> LoginSecrets:
    raw = derive_from_password(password, salt, params, VERIFIER_BYTES + KEY_BYTES)
    return LoginSecrets(raw[:VERIFIER_BYTES], raw[VERIFIER_BYTES:])


def new_totp_secret() -> bytes:
    return secrets.token_bytes(TOTP_SECRET_BYTES)


def seal_totp_secret(secret: bytes, key: bytes, email: str) -> bytes:
    """version ‖ nonce ‖ AES-256-GCM(secret), bound to the account's address."""
    return seal_session(TOTP_KIND, email, key, secret)


def seal_enrolment(payload: bytes, email: str) -> tuple[bytes, bytes]:
    """(server half, cookie half): a random key and the new secret (``payload``) sealed under it.

    Neither half alone gives the secret: the key stays in the account's row until the
    confirmation erases it, the sealed secret travels only in the enrolling browser's cookie.
    """
    key = new_session_secret()
    return key, seal_session(ENROLMENT_KIND, email, key, payload)


def open_enrolment(key: bytes, sealed: bytes, email: str) -> bytes | None:
    """The payload of an enrolment ticket, or None when the halves do not belong together."""
    try:
        return open_session(ENROLMENT_KIND, email, key, sealed)
    except SessionLocked:
        return None


def is_legacy_totp_seal(sealed: bytes) -> bool:
    """Sealed before versions: re-sealed at the holder's next login."""
    return len(sealed) == _LEGACY_LENGTH


def open_totp_secret(sealed: bytes, key: bytes, email: str) -> bytes | None:
    """The TOTP secret, or None when the key (the password) or the address does not fit."""
    if is_legacy_totp_seal(sealed):
        aad = b"meldeportal/totp\x00" + email.encode()
        try:
            return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            return None
    try:
        return open_session(TOTP_KIND, email, key, sealed)
    except SessionLocked:
        return None


def _totp(secret: bytes) -> TOTP:
    # SHA-1 and 6 digits are what authenticator apps understand (RFC 6238's default).
    return TOTP(secret, TOTP_DIGITS, SHA1(), TOTP_STEP, enforce_key_length=False)  # noqa: S303


def totp_step(unix_seconds: float) -> int:
    return int(unix_seconds) // TOTP_STEP


def totp_matches(secret: bytes, digits: str, step: int) -> bool:
    """Whether ``digits`` is the code of ``step`` (constant time, as the library compares)."""
    try:
        _totp(secret).verify(digits.encode(), step * TOTP_STEP)
    except InvalidToken:
        return False
    return True


def totp_code(secret: bytes, step: int) -> str:
    return _totp(secret).generate(step * TOTP_STEP).decode()


def provisioning_uri(secret: bytes, email: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from a QR code."""
    return _totp(secret).get_provisioning_uri(email, issuer)


def secret_text(secret: bytes) -> str:
    """The secret as an authenticator app asks for it when typed: base32, in groups of four."""
    text = base64.b32encode(secret).decode().rstrip("=")
    return " ".join(text[start : start + 4] for start in range(0, len(text), 4))


def hash_recovery_code(code: str) -> str:
    """A recovery code's digest: 80 random bits need no slow hash, only no plaintext."""
    return hashlib.sha256(b"meldeportal/recovery\x00" + codes.normalise(code).encode()).hexdigest()


def new_recovery_code(characters: int) -> str:
    return codes.group(codes.random_code(characters), 4)
