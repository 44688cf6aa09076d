"""One sealed-session mechanism for the staff keys session and the reporter's status session."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.errors import SessionLocked
from app.crypto.sessions import (
    SESSION_V1,
    STAFF_KEYS,
    STATUS,
    new_session_secret,
    open_session,
    seal_session,
)

PAYLOAD = b"what the row keeps"


def test_a_sealed_session_opens_with_its_secret_kind_and_id() -> None:
    secret = new_session_secret()
    sealed = seal_session(STATUS, "row-1", secret, PAYLOAD)
    assert sealed[0] == SESSION_V1
    assert PAYLOAD not in sealed
    assert open_session(STATUS, "row-1", secret, sealed) == PAYLOAD


@pytest.mark.parametrize(
    ("kind", "session_id", "secret", "version"),
    [
        (STAFF_KEYS, "row-1", None, SESSION_V1),  # another kind
        (STATUS, "row-2", None, SESSION_V1),  # another row
        (STATUS, "row-1", b"x" * 32, SESSION_V1),  # another secret
        (STATUS, "row-1", b"x" * 7, SESSION_V1),  # not a key at all
        (STATUS, "row-1", None, 2),  # a version this code does not know
        (STATUS, "row-1", None, 0),
    ],
)
def test_anything_else_is_locked(
    kind: str, session_id: str, secret: bytes | None, version: int
) -> None:
    right = new_session_secret()
    sealed = bytearray(seal_session(STATUS, "row-1", right, PAYLOAD))
    sealed[0] = version
    with pytest.raises(SessionLocked):
        open_session(kind, session_id, secret or right, bytes(sealed))


@pytest.mark.parametrize("sealed", [b"", b"\x01", b"\x01" + bytes(range(40))])
def test_garbage_is_locked(sealed: bytes) -> None:
    with pytest.raises(SessionLocked):
        open_session(STATUS, "row-1", new_session_secret(), sealed)


def test_staff_key_sessions_sealed_before_this_mechanism_still_open() -> None:
    """Their layout and associated data were already version ‖ nonce ‖ ciphertext."""
    secret, nonce = new_session_secret(), os.urandom(12)
    aad = b"meldeportal/session\x00%d\x00%s" % (SESSION_V1, b"row-1")
    old = bytes([SESSION_V1]) + nonce + AESGCM(secret).encrypt(nonce, PAYLOAD, aad)
    assert open_session(STAFF_KEYS, "row-1", secret, old) == PAYLOAD


def test_status_sessions_sealed_before_versions_are_closed() -> None:
    """The old status layout had no version: such a row opens nothing (the person types the
    code again) and is removed with the others on its last day."""
    secret, nonce = new_session_secret(), os.urandom(12)
    old = nonce + AESGCM(secret).encrypt(nonce, PAYLOAD, b"meldeportal/status\x00row-1")
    with pytest.raises(SessionLocked):
        open_session(STATUS, "row-1", secret, old)
