"""Public-key wrapping: report data keys (and other secrets) sealed to an X25519 public key.

Wrapped secret, version 1::

    0x01 | ephemeral public key (32) | nonce (12) | AES-256-GCM(secret) with tag

The wrapping key is HKDF-SHA256 over the X25519 shared secret, salted with both public keys. The
associated data binds the version and a ``context`` naming what is wrapped (``report:42``), so a
wrapped key cannot be moved to another report. Wrapping needs only the public key: the intake can
seal without being able to open.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from app.crypto.envelope import KEY_BYTES, NONCE_BYTES, TAG_BYTES, ReportKey
from app.crypto.errors import SealError

WRAP_V1 = 1
_WRAP_INFO = b"meldeportal/wrap/v1"


def public_bytes(public_key: X25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_bytes(private_key: X25519PrivateKey) -> bytes:
    return private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def load_public_key(raw: bytes) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(raw)


def load_private_key(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def new_key_pair() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def fingerprint(public_key: X25519PublicKey | bytes) -> str:
    """A short, stable name for a public key, safe to print and log."""
    raw = public_key if isinstance(public_key, bytes) else public_bytes(public_key)
    digest = hashlib.sha256(b"meldeportal/fingerprint\x00" + raw).hexdigest()[:24]
    return ":".join(digest[i : i + 4] for i in range(0, 24, 4))


def _wrapping_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=ephemeral + recipient, info=_WRAP_INFO
    ).derive(shared)


def _aad(context: str) -> bytes:
    return b"meldeportal/wrap\x00%d\x00%s" % (WRAP_V1, context.encode("utf-8"))


def wrap_secret(secret: bytes, public_key: X25519PublicKey, context: str) -> bytes:
    """Seal ``secret`` so that only the holder of the matching private key can open it."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = public_bytes(ephemeral.public_key())
    key = _wrapping_key(ephemeral.exchange(public_key), ephemeral_raw, public_bytes(public_key))
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, secret, _aad(context))
    return bytes([WRAP_V1]) + ephemeral_raw + nonce + ciphertext


def unwrap_secret(wrapped: bytes, private_key: X25519PrivateKey, context: str) -> bytes:
    """Open what ``wrap_secret`` sealed for this private key and context.

    Raises:
        SealError: when the data was changed, the context differs or the key is wrong.
    """
    if len(wrapped) < 1 + 32 + NONCE_BYTES + TAG_BYTES or wrapped[0] != WRAP_V1:
        raise SealError("not a wrapped key of a known version")
    ephemeral_raw = wrapped[1:33]
    nonce, ciphertext = wrapped[33 : 33 + NONCE_BYTES], wrapped[33 + NONCE_BYTES :]
    recipient = public_bytes(private_key.public_key())
    try:
        shared = private_key.exchange(load_public_key(ephemeral_raw))
        key = _wrapping_key(shared, ephemeral_raw, recipient)
        return AESGCM(key).decrypt(nonce, ciphertext, _aad(context))
    except (InvalidTag, ValueError):
        raise SealError("the wrapped key does not open with this private key") from None


def report_context(report_id: int) -> str:
    return f"report:{report_id}"


def wrap_for_organisation(
    report_key: ReportKey, public_key: X25519PublicKey, report_id: int
) -> bytes:
    """Wrap a report's data key to the organisation's public key."""
    return wrap_secret(report_key.secret_bytes, public_key, report_context(report_id))


def unwrap(wrapped: bytes, private_key: X25519PrivateKey, report_id: int) -> ReportKey:
    """The report's data key, opened with the organisation's private key.

    Raises:
        SealError: when it does not open.
    """
    return ReportKey(unwrap_secret(wrapped, private_key, report_context(report_id)))
