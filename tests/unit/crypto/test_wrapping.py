"""Public-key wrapping of report keys and secrets to an X25519 key (app/crypto/keys)."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto.envelope import NONCE_BYTES, TAG_BYTES, new_report_key
from app.crypto.errors import SealError
from app.crypto.keys import (
    WRAP_V1,
    fingerprint,
    load_private_key,
    load_public_key,
    new_key_pair,
    private_bytes,
    public_bytes,
    report_context,
    unwrap,
    unwrap_secret,
    wrap_for_organisation,
    wrap_secret,
)

# One value wrapped once with wrap_secret to a FIXED recipient key:
#   recipient = X25519PrivateKey.from_private_bytes(bytes(range(32)))
#   wrap_secret(GOLDEN_SECRET, recipient.public_key(), "report:7")
# The ephemeral key and nonce were random then and are part of the value now. Organisation keys
# wrapped years ago are stored exactly like this: it must keep opening in every future version.
GOLDEN_RECIPIENT_PRIVATE = bytes(range(32))
GOLDEN_SECRET = b"golden secret 32 bytes long!!!!!"
GOLDEN_CONTEXT = "report:7"
GOLDEN_WRAPPED_V1 = bytes.fromhex(
    "0127be6313ccbb98344f8873ee5a8780e0c262973455c6e911e47edce634b4933669aa43c41e81719192d5506e"
    "b3e467c7f9e57083a8cf8ac7acd83db5437b404fd3b42d06819ccfbc70dd461018bdee7dbe346b5bfa95768e"
    "72b23b99"
)
# fingerprint() of the public key of GOLDEN_RECIPIENT_PRIVATE, recorded once.
GOLDEN_FINGERPRINT = "aa55:490c:85b9:6708:116d:2ab4"

ORGANISATION = new_key_pair()
REPORT_ID = 42
FINGERPRINT_FORMAT = re.compile(r"[0-9a-f]{4}(:[0-9a-f]{4}){5}")


def test_golden_wrapped_secret_still_opens() -> None:
    recipient = X25519PrivateKey.from_private_bytes(GOLDEN_RECIPIENT_PRIVATE)
    assert unwrap_secret(GOLDEN_WRAPPED_V1, recipient, GOLDEN_CONTEXT) == GOLDEN_SECRET
    assert unwrap(GOLDEN_WRAPPED_V1, recipient, 7).secret_bytes == GOLDEN_SECRET


def test_golden_wrapped_secret_does_not_open_for_another_context_or_key() -> None:
    recipient = X25519PrivateKey.from_private_bytes(GOLDEN_RECIPIENT_PRIVATE)
    with pytest.raises(SealError):
        unwrap_secret(GOLDEN_WRAPPED_V1, recipient, "report:8")
    with pytest.raises(SealError):
        unwrap_secret(GOLDEN_WRAPPED_V1, new_key_pair(), GOLDEN_CONTEXT)


def test_report_key_round_trips_through_the_organisation_key() -> None:
    report_key = new_report_key()
    wrapped = wrap_for_organisation(report_key, ORGANISATION.public_key(), REPORT_ID)
    assert unwrap(wrapped, ORGANISATION, REPORT_ID) == report_key


def test_wrapping_needs_only_the_public_key_bytes() -> None:
    report_key = new_report_key()
    public = load_public_key(public_bytes(ORGANISATION.public_key()))
    wrapped = wrap_for_organisation(report_key, public, REPORT_ID)
    reloaded = load_private_key(private_bytes(ORGANISATION))
    assert unwrap(wrapped, reloaded, REPORT_ID) == report_key


@settings(max_examples=30, deadline=None)
@given(secret=st.binary(max_size=200), context=st.text())
def test_any_secret_round_trips_in_any_context(secret: bytes, context: str) -> None:
    wrapped = wrap_secret(secret, ORGANISATION.public_key(), context)
    assert unwrap_secret(wrapped, ORGANISATION, context) == secret


def test_unwrap_with_another_private_key_fails() -> None:
    wrapped = wrap_for_organisation(new_report_key(), ORGANISATION.public_key(), REPORT_ID)
    with pytest.raises(SealError):
        unwrap(wrapped, new_key_pair(), REPORT_ID)


@pytest.mark.parametrize("other_id", [0, 41, 43, 420, 2**62])
def test_unwrap_for_another_report_fails(other_id: int) -> None:
    wrapped = wrap_for_organisation(new_report_key(), ORGANISATION.public_key(), REPORT_ID)
    with pytest.raises(SealError):
        unwrap(wrapped, ORGANISATION, other_id)


@pytest.mark.parametrize("other_context", ["report:8", "report:7 ", "Report:7", "", "grant:7"])
def test_unwrap_secret_with_another_context_fails(other_context: str) -> None:
    wrapped = wrap_secret(b"s" * 32, ORGANISATION.public_key(), "report:7")
    with pytest.raises(SealError):
        unwrap_secret(wrapped, ORGANISATION, other_context)


def test_report_context_names_the_report() -> None:
    assert report_context(7) == "report:7"
    assert report_context(7) != report_context(70)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_flipping_any_single_bit_makes_the_wrapped_key_refuse_to_open(data: st.DataObject) -> None:
    wrapped = wrap_for_organisation(new_report_key(), ORGANISATION.public_key(), REPORT_ID)
    bit = data.draw(st.integers(min_value=0, max_value=len(wrapped) * 8 - 1), label="bit")
    tampered = bytearray(wrapped)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SealError):
        unwrap(bytes(tampered), ORGANISATION, REPORT_ID)


def test_flipping_the_ignored_top_bit_of_the_ephemeral_key_still_fails() -> None:
    # X25519 ignores bit 255 of a public key; the wrapping key must still depend on all bytes.
    wrapped = bytearray(wrap_secret(b"s" * 32, ORGANISATION.public_key(), "c"))
    wrapped[32] ^= 0x80
    with pytest.raises(SealError):
        unwrap_secret(bytes(wrapped), ORGANISATION, "c")


def test_every_truncation_of_a_wrapped_key_fails() -> None:
    wrapped = wrap_for_organisation(new_report_key(), ORGANISATION.public_key(), REPORT_ID)
    for length in range(len(wrapped)):
        with pytest.raises(SealError):
            unwrap(wrapped[:length], ORGANISATION, REPORT_ID)


@pytest.mark.parametrize("ephemeral", [bytes(32), bytes([1]) + bytes(31)])
def test_low_order_ephemeral_key_is_a_seal_error(ephemeral: bytes) -> None:
    wrapped = bytearray(wrap_secret(b"s" * 32, ORGANISATION.public_key(), "c"))
    wrapped[1:33] = ephemeral
    with pytest.raises(SealError):
        unwrap_secret(bytes(wrapped), ORGANISATION, "c")


def test_wrapped_key_is_version_byte_then_32_byte_ephemeral_public_key() -> None:
    report_key = new_report_key()
    wrapped = wrap_for_organisation(report_key, ORGANISATION.public_key(), REPORT_ID)
    assert wrapped[0] == WRAP_V1 == 1
    assert len(wrapped) == 1 + 32 + NONCE_BYTES + 32 + TAG_BYTES
    ephemeral = wrapped[1:33]
    assert ephemeral != public_bytes(ORGANISATION.public_key())
    load_public_key(ephemeral)  # a valid X25519 public key
    assert report_key.secret_bytes not in wrapped


@pytest.mark.parametrize("version", [0, 2, 255])
def test_relabelled_version_byte_fails(version: int) -> None:
    wrapped = wrap_for_organisation(new_report_key(), ORGANISATION.public_key(), REPORT_ID)
    with pytest.raises(SealError):
        unwrap(bytes([version]) + wrapped[1:], ORGANISATION, REPORT_ID)


def test_two_wraps_of_the_same_key_differ_in_ephemeral_key_and_nonce() -> None:
    report_key = new_report_key()
    first = wrap_for_organisation(report_key, ORGANISATION.public_key(), REPORT_ID)
    second = wrap_for_organisation(report_key, ORGANISATION.public_key(), REPORT_ID)
    assert first != second
    assert first[1:33] != second[1:33]
    assert first[33 : 33 + NONCE_BYTES] != second[33 : 33 + NONCE_BYTES]
    assert unwrap(first, ORGANISATION, REPORT_ID) == unwrap(second, ORGANISATION, REPORT_ID)


def test_unwrap_errors_never_contain_the_secret_or_private_key() -> None:
    secret = b"Distinctive-Secret-Marker-32byte"
    wrapped = wrap_secret(secret, ORGANISATION.public_key(), "report:1")
    with pytest.raises(SealError) as caught:
        unwrap_secret(wrapped, ORGANISATION, "report:2")
    for shown in (str(caught.value), repr(caught.value)):
        assert "Distinctive-Secret-Marker" not in shown
        assert secret.hex() not in shown
        assert private_bytes(ORGANISATION).hex() not in shown


def test_fingerprint_is_stable_for_the_same_key() -> None:
    key = new_key_pair()
    first = fingerprint(key.public_key())
    assert fingerprint(key.public_key()) == first
    assert fingerprint(public_bytes(key.public_key())) == first
    reloaded = load_private_key(private_bytes(key)).public_key()
    assert fingerprint(reloaded) == first


def test_golden_fingerprint_never_changes() -> None:
    # Operators compare fingerprints printed earlier (backups, key ceremonies): keep this value.
    public = X25519PrivateKey.from_private_bytes(GOLDEN_RECIPIENT_PRIVATE).public_key()
    assert fingerprint(public) == GOLDEN_FINGERPRINT
    assert fingerprint(public_bytes(public)) == GOLDEN_FINGERPRINT


def test_fingerprints_of_different_keys_differ() -> None:
    prints = {fingerprint(new_key_pair().public_key()) for _ in range(200)}
    assert len(prints) == 200


def test_fingerprint_is_six_groups_of_four_hex_digits() -> None:
    shown = fingerprint(new_key_pair().public_key())
    assert FINGERPRINT_FORMAT.fullmatch(shown)
    groups = shown.split(":")
    assert len(groups) == 6
    assert all(len(group) == 4 for group in groups)


def test_fingerprint_does_not_show_the_public_key_bytes() -> None:
    public = new_key_pair().public_key()
    raw_hex = public_bytes(public).hex()
    assert fingerprint(public).replace(":", "") not in raw_hex
