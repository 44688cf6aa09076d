"""Sealed fields: AES-256-GCM envelopes bound to their report and field.

Envelope, version 1::

    0x01 | nonce (12 bytes) | ciphertext and tag

The associated data binds the version, the report id and the field name, so an envelope copied to
another report or another field, or relabelled as another version, does not open. A new format gets
a new version byte; ``open_sealed`` keeps reading every earlier one.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.errors import SealError

ENVELOPE_V1 = 1
CURRENT_VERSION = ENVELOPE_V1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class ReportKey:
    """A report's 256-bit data key. Its repr never shows the key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise SealError("a report key has 32 bytes")
        self._key = key

    @property
    def secret_bytes(self) -> bytes:
        return self._key

    def __repr__(self) -> str:
        return "ReportKey(<hidden>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReportKey) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)


def new_report_key() -> ReportKey:
    """A fresh random data key for one report."""
    return ReportKey(AESGCM.generate_key(bit_length=256))


def associated_data(version: int, report_id: int, field: str) -> bytes:
    if report_id < 0 or not field or "\x00" in field:
        raise SealError("a sealed field needs a report id and a field name")
    return b"meldeportal/field\x00%d\x00%d\x00%s" % (version, report_id, field.encode("utf-8"))


def seal(report_key: ReportKey, report_id: int, field: str, plaintext: bytes | str) -> bytes:
    """Encrypt one field of one report.

    Raises:
        SealError: for an empty field name or a negative report id.
    """
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    nonce = os.urandom(NONCE_BYTES)
    aad = associated_data(CURRENT_VERSION, report_id, field)
    ciphertext = AESGCM(report_key.secret_bytes).encrypt(nonce, data, aad)
    return bytes([CURRENT_VERSION]) + nonce + ciphertext


def open_sealed(report_key: ReportKey, report_id: int, field: str, envelope: bytes) -> bytes:
    """Decrypt an envelope made by ``seal`` for exactly this report and field.

    Raises:
        SealError: when the envelope was changed, belongs elsewhere, or the key is wrong.
    """
    if len(envelope) < 1 + NONCE_BYTES + TAG_BYTES:
        raise SealError("the sealed value is too short")
    version = envelope[0]
    if version != ENVELOPE_V1:
        raise SealError(f"unknown envelope version {version}")
    nonce, ciphertext = envelope[1 : 1 + NONCE_BYTES], envelope[1 + NONCE_BYTES :]
    try:
        return AESGCM(report_key.secret_bytes).decrypt(
            nonce, ciphertext, associated_data(version, report_id, field)
        )
    except InvalidTag:
        raise SealError("the sealed value does not open with this key for this field") from None


def open_sealed_text(report_key: ReportKey, report_id: int, field: str, envelope: bytes) -> str:
    return open_sealed(report_key, report_id, field, envelope).decode("utf-8")
