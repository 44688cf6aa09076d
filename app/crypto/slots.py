"""Key slots: each holder's own X25519 key, and the password protection of it.

Every holder (a staff account, or the recovery key) has an X25519 key pair. The organisation's
private key is never stored in the clear; it is wrapped to each holder's public key (a *grant*).
A staff account's private key is in turn sealed with AES-256-GCM under a key derived from the
account's password with Argon2id; the parameters are stored beside it so they can be raised later.
This indirection lets ``flask keys rotate`` grant a new organisation key to every holder without
knowing anyone's password, and a password change rewraps only that holder's own slot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto import codes
from app.crypto.envelope import KEY_BYTES, NONCE_BYTES, TAG_BYTES
from app.crypto.errors import SealError, WrongPassword
from app.crypto.kdf import KdfParams, derive_from_password
from app.crypto.keys import load_private_key, private_bytes

SLOT_V1 = 1
SALT_BYTES = 16
RECOVERY_CHARACTERS = 52  # 260 bits of room for a 256-bit X25519 private key


def password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    """The key that seals a holder's private key (Argon2id, one derivation at a time)."""
    return derive_from_password(password, salt, params, KEY_BYTES)


def _aad(context: str) -> bytes:
    return b"meldeportal/slot\x00%d\x00%s" % (SLOT_V1, context.encode("utf-8"))


@dataclass(frozen=True)
class SealedHolderKey:
    salt: bytes
    sealed: bytes
    params: KdfParams

    def __repr__(self) -> str:
        return f"SealedHolderKey({self.params})"


def seal_holder_key(
    holder: X25519PrivateKey, password: str, params: KdfParams, context: str
) -> SealedHolderKey:
    salt = os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    key = password_key(password, salt, params)
    sealed = AESGCM(key).encrypt(nonce, private_bytes(holder), _aad(context))
    return SealedHolderKey(salt, bytes([SLOT_V1]) + nonce + sealed, params)


def open_holder_key(sealed: SealedHolderKey, password: str, context: str) -> X25519PrivateKey:
    """Raises: WrongPassword when the password does not open the slot."""
    data = sealed.sealed
    if len(data) < 1 + NONCE_BYTES + TAG_BYTES or data[0] != SLOT_V1:
        raise SealError("not a key slot of a known version")
    key = password_key(password, sealed.salt, sealed.params)
    try:
        raw = AESGCM(key).decrypt(data[1 : 1 + NONCE_BYTES], data[1 + NONCE_BYTES :], _aad(context))
    except InvalidTag:
        raise WrongPassword("the password does not open this key slot") from None
    return load_private_key(raw)


def recovery_code(holder: X25519PrivateKey) -> str:
    """The recovery key as people write it down: 13 groups of four symbols."""
    return codes.group(codes.from_bytes(private_bytes(holder), RECOVERY_CHARACTERS), 4)


def recovery_private_key(code: str) -> X25519PrivateKey:
    """Raises: WrongPassword when the text is not a recovery key."""
    try:
        raw = codes.to_bytes(code, RECOVERY_CHARACTERS)
    except codes.CodeFormatError:
        raise WrongPassword("this is not a recovery key") from None
    if raw[0] != 0:  # 52 symbols hold 260 bits; a real key leaves the top four empty
        raise WrongPassword("this is not a recovery key")
    return load_private_key(raw[1:])
