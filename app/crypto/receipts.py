"""Receipt codes: the only thing that links a person to their report.

A code has 20 symbols (100 bits from ``secrets``), shown once in groups of four. The server keeps
only a keyed HMAC-SHA256 of it for lookup, so a copy of the database cannot list codes, and a key
derived from the code itself opens the report's mailbox: replies are readable with the code
alone, while the report's own content stays sealed to the organisation.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.crypto import codes
from app.crypto.envelope import KEY_BYTES, NONCE_BYTES, TAG_BYTES
from app.crypto.errors import SealError

RECEIPT_CHARACTERS = 20
SALT_BYTES = 16
RECEIPT_WRAP_V1 = 1


@dataclass(frozen=True)
class ReceiptCode:
    """A normalised receipt code. Its repr never shows the code."""

    value: str

    @property
    def display(self) -> str:
        return codes.group(self.value, 4)

    def as_bytes(self) -> bytes:
        return codes.to_bytes(self.value, RECEIPT_CHARACTERS)

    def __repr__(self) -> str:
        return "ReceiptCode(<hidden>)"

    __str__ = __repr__


def new_receipt_code() -> ReceiptCode:
    return ReceiptCode(codes.random_code(RECEIPT_CHARACTERS))


def parse_receipt_code(text: str) -> ReceiptCode:
    """Read a typed code, forgiving separators, case, width and look-alikes (``codes.normalise``).

    Raises:
        codes.CodeFormatError: when it cannot be a receipt code.
    """
    normal = codes.normalise(text)
    codes.to_bytes(normal, RECEIPT_CHARACTERS)  # validates length and alphabet
    return ReceiptCode(normal)


def receipt_lookup(code: ReceiptCode, server_key: bytes) -> str:
    """The keyed hash under which a report is found; useless without the server's key."""
    return hmac.new(server_key, b"meldeportal/receipt\x00" + code.as_bytes(), sha256).hexdigest()


def receipt_key(code: ReceiptCode, salt: bytes) -> bytes:
    """The key that the code derives under ``salt``: it opens what is wrapped with the code."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=b"meldeportal/receipt-key/v1"
    ).derive(code.as_bytes())


def new_receipt_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def _aad(context: str) -> bytes:
    return b"meldeportal/receipt-wrap\x00%d\x00%s" % (RECEIPT_WRAP_V1, context.encode("utf-8"))


def wrap_with_receipt(secret: bytes, code: ReceiptCode, salt: bytes, context: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(receipt_key(code, salt)).encrypt(nonce, secret, _aad(context))
    return bytes([RECEIPT_WRAP_V1]) + nonce + sealed


def unwrap_with_receipt(wrapped: bytes, code: ReceiptCode, salt: bytes, context: str) -> bytes:
    """Raises: SealError when the code or context does not fit."""
    return unwrap_with_receipt_key(wrapped, receipt_key(code, salt), context)


def unwrap_with_receipt_key(wrapped: bytes, key: bytes, context: str) -> bytes:
    """As :func:`unwrap_with_receipt`, with the code's key already derived.

    Raises:
        SealError: when the key or context does not fit.
    """
    if len(wrapped) < 1 + NONCE_BYTES + TAG_BYTES or wrapped[0] != RECEIPT_WRAP_V1:
        raise SealError("not a receipt-wrapped key of a known version")
    nonce, sealed = wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, _aad(context))
    except InvalidTag:
        raise SealError("the receipt code does not open this mailbox") from None


def receipt_for_submission(server_key: bytes, form_token: str) -> ReceiptCode:
    """The receipt code of the report made from one form (one-time token).

    Derived, not random, so that a repeated POST of the same form (a double click, a reload)
    shows the same code again instead of losing it — and still creates no second report. The
    token exists only in the person's page; the database keeps a keyed hash of it.
    """
    digest = hmac.new(server_key, b"meldeportal/submission\x00" + form_token.encode(), sha256)
    value = int.from_bytes(digest.digest()[:13], "big") >> (13 * 8 - RECEIPT_CHARACTERS * 5)
    return ReceiptCode(codes.from_bytes(value.to_bytes(13, "big"), RECEIPT_CHARACTERS))


def submission_lookup(server_key: bytes, form_token: str) -> str:
    return hmac.new(
        server_key, b"meldeportal/form-token\x00" + form_token.encode(), sha256
    ).hexdigest()
