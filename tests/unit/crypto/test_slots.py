"""Key slots: Argon2id-sealed holder keys and the recovery code (app/crypto/slots)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from app import config
from app.crypto import codes, slots
from app.crypto.errors import SealError, WrongPassword
from app.crypto.kdf import DEFAULT_KDF, KdfParams
from app.crypto.keys import new_key_pair, private_bytes, public_bytes
from app.crypto.slots import (
    RECOVERY_CHARACTERS,
    SLOT_V1,
    SealedHolderKey,
    open_holder_key,
    password_key,
    recovery_code,
    recovery_private_key,
    seal_holder_key,
)

# Cheap Argon2id so the suite stays fast; the production cost is asserted once, below.
CHEAP = KdfParams(memory_kib=1024, iterations=1, lanes=1)
OTHER_CHEAP = KdfParams(memory_kib=1024, iterations=2, lanes=1)
PASSWORD = "korrekt Pferd Batterie Heftklammer"
CONTEXT = "holder:3"
RECOVERY_FORMAT = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){12}")

HOLDER = new_key_pair()
SEALED = seal_holder_key(HOLDER, PASSWORD, CHEAP, CONTEXT)


def _same_key(first: X25519PrivateKey, second: X25519PrivateKey) -> bool:
    return public_bytes(first.public_key()) == public_bytes(second.public_key())


def test_production_key_derivation_costs_at_least_64_mib() -> None:
    assert DEFAULT_KDF.memory_kib >= 64 * 1024
    assert config.BaseConfig.SLOT_KDF_MEMORY_KIB >= 64 * 1024
    assert config.ProductionConfig.SLOT_KDF_MEMORY_KIB >= 64 * 1024
    assert DEFAULT_KDF == KdfParams(
        memory_kib=config.ProductionConfig.SLOT_KDF_MEMORY_KIB,
        iterations=config.ProductionConfig.SLOT_KDF_ITERATIONS,
        lanes=config.ProductionConfig.SLOT_KDF_LANES,
    )


def test_sealed_holder_key_opens_with_its_password() -> None:
    opened = open_holder_key(SEALED, PASSWORD, CONTEXT)
    assert _same_key(opened, HOLDER)
    assert private_bytes(opened) == private_bytes(HOLDER)


def test_sealed_holder_key_layout_and_params() -> None:
    assert SEALED.params == CHEAP
    assert len(SEALED.salt) == slots.SALT_BYTES == 16
    assert SEALED.sealed[0] == SLOT_V1 == 1
    assert len(SEALED.sealed) == 1 + 12 + 32 + 16
    assert private_bytes(HOLDER) not in SEALED.sealed


def test_two_seals_of_the_same_key_use_fresh_salt_and_nonce() -> None:
    again = seal_holder_key(HOLDER, PASSWORD, CHEAP, CONTEXT)
    assert again.salt != SEALED.salt
    assert again.sealed != SEALED.sealed
    assert _same_key(open_holder_key(again, PASSWORD, CONTEXT), HOLDER)


@pytest.mark.parametrize(
    "wrong",
    [
        "",
        "korrekt Pferd Batterie Heftklammer ",
        "Korrekt Pferd Batterie Heftklammer",
        "korrekt pferd batterie heftklammer",
        "something else entirely",
    ],
)
def test_wrong_password_raises_wrong_password(wrong: str) -> None:
    with pytest.raises(WrongPassword):
        open_holder_key(SEALED, wrong, CONTEXT)


@pytest.mark.parametrize("other_context", ["holder:4", "recovery", "", "holder:3 "])
def test_slot_opened_in_another_context_raises_wrong_password(other_context: str) -> None:
    with pytest.raises(WrongPassword):
        open_holder_key(SEALED, PASSWORD, other_context)


def test_wrong_password_is_a_seal_error() -> None:
    assert issubclass(WrongPassword, SealError)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_flipping_any_bit_of_the_sealed_bytes_raises_seal_error(data: st.DataObject) -> None:
    bit = data.draw(st.integers(min_value=0, max_value=len(SEALED.sealed) * 8 - 1), label="bit")
    tampered = bytearray(SEALED.sealed)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SealError):
        open_holder_key(dataclasses.replace(SEALED, sealed=bytes(tampered)), PASSWORD, CONTEXT)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_flipping_any_bit_of_the_salt_raises_wrong_password(data: st.DataObject) -> None:
    bit = data.draw(st.integers(min_value=0, max_value=len(SEALED.salt) * 8 - 1), label="bit")
    tampered = bytearray(SEALED.salt)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(WrongPassword):
        open_holder_key(dataclasses.replace(SEALED, salt=bytes(tampered)), PASSWORD, CONTEXT)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_relabelled_slot_version_raises_seal_error(version: int) -> None:
    relabelled = dataclasses.replace(SEALED, sealed=bytes([version]) + SEALED.sealed[1:])
    with pytest.raises(SealError):
        open_holder_key(relabelled, PASSWORD, CONTEXT)


@pytest.mark.parametrize("length", [0, 1, 13, 28, 29, 60])
def test_truncated_slot_raises_seal_error(length: int) -> None:
    truncated = dataclasses.replace(SEALED, sealed=SEALED.sealed[:length])
    with pytest.raises(SealError):
        open_holder_key(truncated, PASSWORD, CONTEXT)


def test_wrong_password_error_does_not_show_the_password_or_key() -> None:
    with pytest.raises(WrongPassword) as caught:
        open_holder_key(SEALED, "Distinctive-Password-Marker", CONTEXT)
    for shown in (str(caught.value), repr(caught.value)):
        assert "Distinctive-Password-Marker" not in shown
        assert PASSWORD not in shown
        assert private_bytes(HOLDER).hex() not in shown


@settings(max_examples=50, deadline=None)
@given(
    memory_kib=st.integers(min_value=8, max_value=2**22),
    iterations=st.integers(min_value=1, max_value=100),
    lanes=st.integers(min_value=1, max_value=64),
)
def test_kdf_params_round_trip_through_a_dict(memory_kib: int, iterations: int, lanes: int) -> None:
    params = KdfParams(memory_kib=memory_kib, iterations=iterations, lanes=lanes)
    stored = params.to_dict()
    assert stored["algorithm"] == "argon2id"
    assert KdfParams.from_dict(stored) == params


def test_default_kdf_params_round_trip_through_a_dict() -> None:
    assert KdfParams.from_dict(DEFAULT_KDF.to_dict()) == DEFAULT_KDF
    assert DEFAULT_KDF.to_dict() == {
        "algorithm": "argon2id",
        "memory_kib": DEFAULT_KDF.memory_kib,
        "iterations": DEFAULT_KDF.iterations,
        "lanes": DEFAULT_KDF.lanes,
    }


@pytest.mark.parametrize("algorithm", ["argon2i", "argon2d", "scrypt", "pbkdf2", "ARGON2ID", None])
def test_kdf_params_with_another_algorithm_raise_seal_error(algorithm: str | None) -> None:
    stored: dict[str, Any] = {**CHEAP.to_dict(), "algorithm": algorithm}
    with pytest.raises(SealError):
        KdfParams.from_dict(stored)


def test_kdf_params_without_an_algorithm_raise_seal_error() -> None:
    stored = CHEAP.to_dict()
    del stored["algorithm"]
    with pytest.raises(SealError):
        KdfParams.from_dict(stored)


def test_opening_uses_the_params_stored_with_the_slot_not_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    used: list[KdfParams] = []

    def recording_password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
        used.append(params)
        return password_key(password, salt, params)

    monkeypatch.setattr(slots, "password_key", recording_password_key)
    sealed = seal_holder_key(HOLDER, PASSWORD, OTHER_CHEAP, CONTEXT)
    assert sealed.params == OTHER_CHEAP
    assert _same_key(open_holder_key(sealed, PASSWORD, CONTEXT), HOLDER)
    assert used == [OTHER_CHEAP, OTHER_CHEAP]
    assert DEFAULT_KDF not in used


def test_slot_opened_with_other_params_than_it_was_sealed_with_raises_wrong_password() -> None:
    assert CHEAP != OTHER_CHEAP
    with pytest.raises(WrongPassword):
        open_holder_key(dataclasses.replace(SEALED, params=OTHER_CHEAP), PASSWORD, CONTEXT)


def test_slot_stored_as_dict_params_opens_again() -> None:
    reloaded = SealedHolderKey(
        salt=SEALED.salt, sealed=SEALED.sealed, params=KdfParams.from_dict(SEALED.params.to_dict())
    )
    assert _same_key(open_holder_key(reloaded, PASSWORD, CONTEXT), HOLDER)


def test_password_key_is_32_bytes_and_depends_on_password_salt_and_params() -> None:
    salt = bytes(16)
    key = password_key(PASSWORD, salt, CHEAP)
    assert len(key) == 32
    assert password_key(PASSWORD, salt, CHEAP) == key
    assert password_key(PASSWORD + "!", salt, CHEAP) != key
    assert password_key(PASSWORD, bytes([1]) + bytes(15), CHEAP) != key
    assert password_key(PASSWORD, salt, OTHER_CHEAP) != key


def test_sealed_holder_key_repr_does_not_show_salt_or_sealed_bytes() -> None:
    for shown in (repr(SEALED), str(SEALED), f"{SEALED}", repr([SEALED])):
        for secret in (SEALED.salt, SEALED.sealed, SEALED.sealed[13:]):
            assert secret.hex() not in shown
            assert secret.hex().upper() not in shown
            assert repr(secret) not in shown
        assert private_bytes(HOLDER).hex() not in shown


def test_recovery_code_is_13_groups_of_4_symbols() -> None:
    code = recovery_code(HOLDER)
    assert RECOVERY_FORMAT.fullmatch(code)
    groups = code.split("-")
    assert len(groups) == 13
    assert all(len(group) == 4 for group in groups)
    assert len(code.replace("-", "")) == RECOVERY_CHARACTERS == 52
    assert code[0] in "01"  # 256 bits in 260: the first symbol carries only one bit


def test_recovery_code_gives_back_the_same_key() -> None:
    restored = recovery_private_key(recovery_code(HOLDER))
    assert _same_key(restored, HOLDER)
    assert private_bytes(restored) == private_bytes(HOLDER)


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(min_size=32, max_size=32))
def test_recovery_code_round_trips_every_private_key(raw: bytes) -> None:
    holder = X25519PrivateKey.from_private_bytes(raw)
    code = recovery_code(holder)
    assert RECOVERY_FORMAT.fullmatch(code)
    restored = recovery_private_key(code)
    assert private_bytes(restored) == private_bytes(holder)
    assert _same_key(restored, holder)


def test_recovery_code_of_extreme_keys_round_trips() -> None:
    for raw in (bytes(32), b"\xff" * 32, bytes([0x80]) + bytes(31)):
        holder = X25519PrivateKey.from_private_bytes(raw)
        assert private_bytes(recovery_private_key(recovery_code(holder))) == raw


@pytest.mark.parametrize(
    "retype",
    [
        str.lower,
        lambda code: code.replace("-", " "),
        lambda code: code.lower().replace("-", " "),
        lambda code: code.replace("-", ""),
        lambda code: "  " + code.replace("-", "\u00a0") + "\n",
        lambda code: code.replace("0", "O").replace("1", "l"),
        lambda code: code.replace("-", "\u2212"),  # the minus sign a word processor makes
        lambda code: "".join(chr(ord(c) + 0xFEE0) if c != "-" else "\u3000" for c in code),
    ],
)
def test_recovery_code_accepts_lower_case_spaces_and_look_alikes(retype: Any) -> None:
    typed = retype(recovery_code(HOLDER))
    assert _same_key(recovery_private_key(typed), HOLDER)


@pytest.mark.parametrize("foreign", ["!", "Ü", "U", "/", "é", "\x00"])
def test_recovery_code_with_a_foreign_character_raises_wrong_password(foreign: str) -> None:
    code = recovery_code(HOLDER)
    with pytest.raises(WrongPassword):
        recovery_private_key(code[:-1] + foreign)


@pytest.mark.parametrize("length", [0, 1, 51, 53, 56, 104])
def test_recovery_code_of_wrong_length_raises_wrong_password(length: int) -> None:
    with pytest.raises(WrongPassword):
        recovery_private_key(codes.group("0" * length))


def test_recovery_code_with_a_symbol_missing_raises_wrong_password() -> None:
    with pytest.raises(WrongPassword):
        recovery_private_key(recovery_code(HOLDER)[:-1])


@pytest.mark.parametrize(
    "symbols",
    ["Z" * 52, "2" + "0" * 51, "G" + "0" * 51, "Z" + recovery_code(HOLDER).replace("-", "")[1:]],
    # Fixed names: every xdist worker must collect the same tests, and the last code is random.
    ids=["all-Z", "2-then-zeros", "G-then-zeros", "Z-then-a-real-code"],
)
def test_recovery_code_with_bits_above_256_raises_wrong_password(symbols: str) -> None:
    with pytest.raises(WrongPassword):
        recovery_private_key(symbols)


def test_recovery_code_with_highest_key_bit_set_is_accepted() -> None:
    # "1" then 51 zeros is 2**255: within 256 bits, so it is a key, not an error.
    restored = recovery_private_key("1" + "0" * 51)
    assert private_bytes(restored) == bytes([0x80]) + bytes(31)


def test_recovery_errors_do_not_show_the_typed_code() -> None:
    typed = "Z" * 52
    with pytest.raises(WrongPassword) as caught:
        recovery_private_key(typed)
    for shown in (str(caught.value), repr(caught.value)):
        assert typed not in shown


@pytest.mark.parametrize(
    "stored",
    [
        {"algorithm": "argon2id", "iterations": 1, "lanes": 1},
        {"algorithm": "argon2id", "memory_kib": "lots", "iterations": 1, "lanes": 1},
        {"algorithm": "argon2id", "memory_kib": None, "iterations": 1, "lanes": 1},
    ],
)
def test_damaged_stored_parameters_are_a_seal_error(stored: dict[str, object]) -> None:
    with pytest.raises(SealError, match="damaged"):
        KdfParams.from_dict(stored)
