"""Sealed fields: AES-256-GCM envelopes bound to version, report and field (app/crypto/envelope)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto.envelope import (
    ENVELOPE_V1,
    KEY_BYTES,
    NONCE_BYTES,
    TAG_BYTES,
    ReportKey,
    new_report_key,
    open_sealed,
    open_sealed_text,
    seal,
)
from app.crypto.errors import SealError

REPORT_IDS = st.integers(min_value=0, max_value=2**62)
FIELD_NAMES = st.text(min_size=1).filter(lambda name: "\x00" not in name)

# A version-1 envelope made once, by hand, outside the module under test:
#   key = bytes(range(32)); nonce = bytes(12 * [7])
#   bytes([1]) + nonce + AESGCM(key).encrypt(nonce, GOLDEN_PLAINTEXT.encode("utf-8"),
#                                            associated_data(1, 42, "description"))
# Reports sealed years ago are stored exactly like this. This envelope must keep opening in every
# future version of the code: never regenerate it; a new format gets a new version byte instead.
GOLDEN_KEY = bytes(range(32))
GOLDEN_REPORT_ID = 42
GOLDEN_FIELD = "description"
GOLDEN_PLAINTEXT = "Golden vector: Moschee-Vorfall am 3. März"
GOLDEN_ENVELOPE_V1 = bytes.fromhex(
    "01070707070707070707070707"
    "4805ca380a61f782a3fe67eff26bd4d6ce2fee1bed92ac4f91c9389b68b2127a4a64c250a10d3736708422"
    "204580ba69fd54389bb2ebba8c5bcc"
)

KEY = new_report_key()
REPORT_ID = 7
FIELD = "description"


def test_golden_v1_envelope_still_opens() -> None:
    key = ReportKey(GOLDEN_KEY)
    opened = open_sealed(key, GOLDEN_REPORT_ID, GOLDEN_FIELD, GOLDEN_ENVELOPE_V1)
    assert opened == GOLDEN_PLAINTEXT.encode("utf-8")
    assert open_sealed_text(key, GOLDEN_REPORT_ID, GOLDEN_FIELD, GOLDEN_ENVELOPE_V1) == (
        GOLDEN_PLAINTEXT
    )


def test_golden_v1_envelope_does_not_open_for_another_report_or_field() -> None:
    key = ReportKey(GOLDEN_KEY)
    with pytest.raises(SealError):
        open_sealed(key, GOLDEN_REPORT_ID + 1, GOLDEN_FIELD, GOLDEN_ENVELOPE_V1)
    with pytest.raises(SealError):
        open_sealed(key, GOLDEN_REPORT_ID, "title", GOLDEN_ENVELOPE_V1)


@settings(max_examples=60, deadline=None)
@given(plaintext=st.binary(), report_id=REPORT_IDS, field=FIELD_NAMES)
def test_bytes_plaintext_round_trips(plaintext: bytes, report_id: int, field: str) -> None:
    envelope = seal(KEY, report_id, field, plaintext)
    assert open_sealed(KEY, report_id, field, envelope) == plaintext


@settings(max_examples=60, deadline=None)
@given(plaintext=st.text(), report_id=REPORT_IDS, field=FIELD_NAMES)
def test_text_plaintext_round_trips_as_utf8(plaintext: str, report_id: int, field: str) -> None:
    envelope = seal(KEY, report_id, field, plaintext)
    assert open_sealed(KEY, report_id, field, envelope) == plaintext.encode("utf-8")
    assert open_sealed_text(KEY, report_id, field, envelope) == plaintext


@pytest.mark.parametrize("empty", [b"", ""])
def test_empty_plaintext_round_trips(empty: bytes | str) -> None:
    envelope = seal(KEY, REPORT_ID, FIELD, empty)
    assert len(envelope) == 1 + NONCE_BYTES + TAG_BYTES
    assert open_sealed(KEY, REPORT_ID, FIELD, envelope) == b""


def test_envelope_is_version_byte_then_nonce_then_ciphertext_and_tag() -> None:
    plaintext = b"Schmiererei an der Moschee"
    envelope = seal(KEY, REPORT_ID, FIELD, plaintext)
    assert envelope[0] == ENVELOPE_V1 == 1
    assert NONCE_BYTES == 12
    assert len(envelope) == 1 + 12 + len(plaintext) + TAG_BYTES
    assert plaintext not in envelope


def test_two_seals_of_the_same_plaintext_differ_by_a_fresh_nonce() -> None:
    first = seal(KEY, REPORT_ID, FIELD, "gleicher Text")
    second = seal(KEY, REPORT_ID, FIELD, "gleicher Text")
    assert first != second
    assert first[1 : 1 + NONCE_BYTES] != second[1 : 1 + NONCE_BYTES]


def test_many_seals_never_repeat_a_nonce() -> None:
    nonces = {seal(KEY, REPORT_ID, FIELD, b"x")[1 : 1 + NONCE_BYTES] for _ in range(500)}
    assert len(nonces) == 500


@settings(max_examples=150, deadline=None)
@given(plaintext=st.binary(max_size=64), data=st.data())
def test_flipping_any_single_bit_anywhere_makes_the_envelope_refuse_to_open(
    plaintext: bytes, data: st.DataObject
) -> None:
    envelope = seal(KEY, REPORT_ID, FIELD, plaintext)
    bit = data.draw(st.integers(min_value=0, max_value=len(envelope) * 8 - 1), label="bit")
    tampered = bytearray(envelope)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SealError):
        open_sealed(KEY, REPORT_ID, FIELD, bytes(tampered))


@settings(max_examples=40, deadline=None)
@given(report_id=REPORT_IDS, other_id=REPORT_IDS)
def test_envelope_moved_to_another_report_does_not_open(report_id: int, other_id: int) -> None:
    if report_id == other_id:
        other_id = report_id + 1
    envelope = seal(KEY, report_id, FIELD, "Beleidigung im Bus")
    with pytest.raises(SealError):
        open_sealed(KEY, other_id, FIELD, envelope)


@settings(max_examples=40, deadline=None)
@given(field=FIELD_NAMES, other_field=FIELD_NAMES)
def test_envelope_moved_to_another_field_does_not_open(field: str, other_field: str) -> None:
    if field == other_field:
        other_field = field + "x"
    envelope = seal(KEY, REPORT_ID, field, "Beleidigung im Bus")
    with pytest.raises(SealError):
        open_sealed(KEY, REPORT_ID, other_field, envelope)


def test_envelope_does_not_open_with_another_report_key() -> None:
    envelope = seal(KEY, REPORT_ID, FIELD, "vertraulich")
    other = new_report_key()
    assert other != KEY
    with pytest.raises(SealError):
        open_sealed(other, REPORT_ID, FIELD, envelope)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_relabelled_version_byte_does_not_open(version: int) -> None:
    envelope = seal(KEY, REPORT_ID, FIELD, "vertraulich")
    with pytest.raises(SealError):
        open_sealed(KEY, REPORT_ID, FIELD, bytes([version]) + envelope[1:])


@pytest.mark.parametrize("version", [0, 2, 255])
def test_relabelled_golden_envelope_does_not_open(version: int) -> None:
    relabelled = bytes([version]) + GOLDEN_ENVELOPE_V1[1:]
    with pytest.raises(SealError):
        open_sealed(ReportKey(GOLDEN_KEY), GOLDEN_REPORT_ID, GOLDEN_FIELD, relabelled)


def test_every_truncation_of_an_envelope_does_not_open() -> None:
    envelope = seal(KEY, REPORT_ID, FIELD, "vertraulich")
    for length in range(len(envelope)):
        with pytest.raises(SealError):
            open_sealed(KEY, REPORT_ID, FIELD, envelope[:length])


def test_envelope_with_bytes_appended_does_not_open() -> None:
    envelope = seal(KEY, REPORT_ID, FIELD, "vertraulich")
    with pytest.raises(SealError):
        open_sealed(KEY, REPORT_ID, FIELD, envelope + b"\x00")


@pytest.mark.parametrize("field", ["", "\x00", "desc\x00ription", "description\x00"])
def test_empty_field_name_or_nul_in_it_is_refused_when_sealing_and_opening(field: str) -> None:
    with pytest.raises(SealError):
        seal(KEY, REPORT_ID, field, "x")
    envelope = seal(KEY, REPORT_ID, FIELD, "x")
    with pytest.raises(SealError):
        open_sealed(KEY, REPORT_ID, field, envelope)


@pytest.mark.parametrize("report_id", [-1, -(2**62)])
def test_negative_report_id_is_refused_when_sealing_and_opening(report_id: int) -> None:
    with pytest.raises(SealError):
        seal(KEY, report_id, FIELD, "x")
    envelope = seal(KEY, REPORT_ID, FIELD, "x")
    with pytest.raises(SealError):
        open_sealed(KEY, report_id, FIELD, envelope)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_report_key_of_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(SealError):
        ReportKey(bytes(length))


def test_new_report_keys_are_32_random_bytes() -> None:
    keys = {new_report_key().secret_bytes for _ in range(100)}
    assert len(keys) == 100
    assert all(len(key) == KEY_BYTES == 32 for key in keys)


def test_report_key_equality_follows_the_key_bytes() -> None:
    assert ReportKey(GOLDEN_KEY) == ReportKey(bytes(range(32)))
    assert hash(ReportKey(GOLDEN_KEY)) == hash(ReportKey(bytes(range(32))))
    assert ReportKey(GOLDEN_KEY) != ReportKey(bytes(32))
    assert ReportKey(GOLDEN_KEY) != GOLDEN_KEY


def test_report_key_repr_and_str_never_show_the_key() -> None:
    key = new_report_key()
    raw = key.secret_bytes
    for shown in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert raw.hex() not in shown
        assert raw.hex().upper() not in shown
        assert repr(raw) not in shown
        assert str(raw) not in shown
        assert raw.decode("latin-1") not in shown
        assert "hidden" in shown


def _failures_while_opening(key: ReportKey, envelope: bytes) -> list[SealError]:
    """The SealErrors that every way of failing to open ``envelope`` raises."""
    failures: list[SealError] = []
    attempts = [
        (new_report_key(), REPORT_ID, FIELD, envelope),
        (key, REPORT_ID + 1, FIELD, envelope),
        (key, REPORT_ID, "other", envelope),
        (key, REPORT_ID, FIELD, bytes([2]) + envelope[1:]),
        (key, REPORT_ID, FIELD, envelope[:-1]),
        (key, REPORT_ID, FIELD, envelope[:10]),
        (key, REPORT_ID, "", envelope),
        (key, -1, FIELD, envelope),
    ]
    for attempt in attempts:
        with pytest.raises(SealError) as caught:
            open_sealed(*attempt)
        failures.append(caught.value)
    return failures


def test_seal_errors_never_contain_the_plaintext_or_the_key() -> None:
    plaintext = "Zeugin-Telefon 0176-55501234 Frau Distinctive-Plaintext-Marker"
    key = new_report_key()
    envelope = seal(key, REPORT_ID, FIELD, plaintext)
    failures = _failures_while_opening(key, envelope)
    with pytest.raises(SealError) as caught:
        seal(key, -5, FIELD, plaintext)
    failures.append(caught.value)
    with pytest.raises(SealError) as caught:
        seal(key, REPORT_ID, "", plaintext)
    failures.append(caught.value)
    for error in failures:
        for shown in (str(error), repr(error)):
            assert "Distinctive-Plaintext-Marker" not in shown
            assert "0176-55501234" not in shown
            assert key.secret_bytes.hex() not in shown
            assert key.secret_bytes.hex().upper() not in shown
            assert repr(key.secret_bytes) not in shown
            assert envelope.hex() not in shown
