"""A staff account's secrets: derived once per login, the TOTP secret sealed with a version."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto import credentials
from app.crypto.kdf import KdfParams

CHEAP = KdfParams(memory_kib=1024, iterations=1, lanes=1)
KEY = b"k" * 32
EMAIL = "mira@example.org"


def legacy_seal(secret: bytes, key: bytes, email: str) -> bytes:
    """What accounts sealed before the version byte: nonce ‖ ciphertext, no version in the aad."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, secret, b"meldeportal/totp\x00" + email.encode())


def test_one_derivation_gives_a_verifier_and_a_separate_key() -> None:
    salt = credentials.new_salt()
    first = credentials.derive_login_secrets("ein langes Passwort", salt, CHEAP)
    assert first == credentials.derive_login_secrets("ein langes Passwort", salt, CHEAP)
    assert len(first.verifier) == len(first.totp_key) == 32
    assert first.verifier != first.totp_key
    assert first != credentials.derive_login_secrets("ein anderes Passwort", salt, CHEAP)
    assert first != credentials.derive_login_secrets("ein langes Passwort", bytes(16), CHEAP)
    assert "hidden" in repr(first)
    assert first.verifier.hex() not in repr(first)


def test_the_sealed_totp_secret_carries_its_version_and_opens_only_with_key_and_address() -> None:
    secret = credentials.new_totp_secret()
    sealed = credentials.seal_totp_secret(secret, KEY, EMAIL)
    assert sealed[0] == credentials.TOTP_V1
    assert secret not in sealed
    assert not credentials.is_legacy_totp_seal(sealed)
    assert credentials.open_totp_secret(sealed, KEY, EMAIL) == secret
    assert credentials.open_totp_secret(sealed, b"x" * 32, EMAIL) is None
    assert credentials.open_totp_secret(sealed, KEY, "other@example.org") is None
    # The version byte is bound: the same body under another version opens nothing.
    assert credentials.open_totp_secret(bytes([2]) + sealed[1:], KEY, EMAIL) is None


def test_a_secret_sealed_before_versions_still_opens() -> None:
    secret = credentials.new_totp_secret()
    old = legacy_seal(secret, KEY, EMAIL)
    assert credentials.is_legacy_totp_seal(old)
    assert credentials.open_totp_secret(old, KEY, EMAIL) == secret
    assert credentials.open_totp_secret(old, KEY, "other@example.org") is None


@pytest.mark.parametrize("sealed", [b"", b"\x01", b"\x00" * 49, b"\x01" * 20, bytes(range(48))])
def test_garbage_opens_nothing(sealed: bytes) -> None:
    assert credentials.open_totp_secret(sealed, KEY, EMAIL) is None


def test_a_code_matches_its_own_step_only() -> None:
    secret = bytes(range(20))  # fixed, so that neighbouring steps' codes surely differ
    step = credentials.totp_step(1_800_000_000.9)
    assert step == 60_000_000
    code = credentials.totp_code(secret, step)
    assert len(code) == credentials.TOTP_DIGITS
    assert code.isdigit()
    assert credentials.totp_matches(secret, code, step)
    assert credentials.totp_code(secret, step + 1) != code
    assert not credentials.totp_matches(secret, code, step + 1)
    assert not credentials.totp_matches(credentials.new_totp_secret(), "12345", step)


def test_the_provisioning_uri_is_what_an_authenticator_app_reads() -> None:
    secret = credentials.new_totp_secret()
    uri = urlsplit(credentials.provisioning_uri(secret, EMAIL, "Meldeportal"))
    query = parse_qs(uri.query)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert query["issuer"] == ["Meldeportal"]
    assert query["digits"] == ["6"]


def test_recovery_codes_are_hashed_after_normalising() -> None:
    code = credentials.new_recovery_code(16)
    assert len(code) == 19
    assert code.count("-") == 3
    digest = credentials.hash_recovery_code(code)
    assert digest == credentials.hash_recovery_code(code.lower().replace("-", " "))
    assert code not in digest
    assert len(digest) == 64


def test_the_versioned_format_is_pinned() -> None:
    """Version 1 as first sealed: version ‖ nonce ‖ ciphertext; version and address in the aad."""
    secret, nonce = credentials.new_totp_secret(), os.urandom(12)
    aad = b"meldeportal/totp\x001\x00" + EMAIL.encode()
    sealed = bytes([1]) + nonce + AESGCM(KEY).encrypt(nonce, secret, aad)
    assert credentials.open_totp_secret(sealed, KEY, EMAIL) == secret
