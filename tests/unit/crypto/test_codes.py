"""Readable codes and receipt codes (app/crypto/codes, app/crypto/receipts)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto import codes
from app.crypto.errors import SealError
from app.crypto.receipts import (
    RECEIPT_CHARACTERS,
    RECEIPT_WRAP_V1,
    SALT_BYTES,
    ReceiptCode,
    new_receipt_code,
    new_receipt_salt,
    parse_receipt_code,
    receipt_lookup,
    unwrap_with_receipt,
    wrap_with_receipt,
)

SERVER_KEY = b"k" * 32
OTHER_SERVER_KEY = b"K" * 32
CONTEXT = "mailbox:42"
SECRET = b"mailbox key, 32 bytes long......"
DISPLAY_FORMAT = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}")

# Look-alikes a person may type for a symbol; every one must read as that symbol. Cyrillic and
# Greek letters come from a phone whose keyboard is set to that script, in either case.
LOOK_ALIKES = {
    "0": ["O", "o", "О", "о", "Ο", "ο", "０"],  # Latin, Cyrillic, Greek O; full-width zero
    "1": ["I", "i", "L", "l", "ı", "İ", "І", "і", "Ι", "ι", "１"],  # Turkish ı İ; Cyrillic, Greek
    "3": ["٣", "۳", "３", "③"],  # Arabic-Indic and Persian digits, full-width, circled
    "A": ["А", "а", "Α", "α", "Ａ", "ａ"],
    "B": ["В", "в", "Β", "β"],
    "C": ["С", "с"],
    "E": ["Е", "е", "Ε", "ε"],
    "H": ["Н", "н", "Η", "η"],
    "J": ["Ј", "ј"],
    "K": ["К", "к", "Κ", "κ"],
    "M": ["М", "м", "Μ", "μ"],
    "N": ["Ν", "ν"],
    "P": ["Р", "р", "Ρ", "ρ"],
    "Q": ["Ԛ", "ԛ"],
    "S": ["Ѕ", "ѕ"],
    "T": ["Т", "т", "Τ", "τ"],
    "W": ["Ԝ", "ԝ"],
    "X": ["Х", "х", "Χ", "χ", "Ｘ"],
    "Y": ["У", "у", "Ү", "ү", "Υ", "υ"],
    "Z": ["Ζ", "ζ"],
}
# Separators a person (or a copy from a web page, PDF or chat) may put between symbols: spaces
# of every width, dashes and the minus sign, punctuation, and invisible format characters.
SEPARATORS = [
    " ", "  ", "-", "\u00a0", "\t", "\n", " - ", "\u2212", "\u200b", "/", ",", "\u3000", ".",
    "_", "\u2011", "\u2013", "\u2014", "\u202f", "\u2009", "\ufe63", "\uff0d", "\u30fc",
    "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad", "\u3001", "\u060c", "|", ":", "·",
]  # fmt: skip

CODES = st.text(alphabet=codes.ALPHABET, min_size=RECEIPT_CHARACTERS, max_size=RECEIPT_CHARACTERS)


def test_receipt_code_has_20_symbols_from_the_alphabet() -> None:
    for _ in range(200):
        code = new_receipt_code()
        assert len(code.value) == RECEIPT_CHARACTERS == 20
        assert set(code.value) <= set(codes.ALPHABET)


def test_alphabet_is_crockford_base32_without_confusable_letters() -> None:
    assert len(codes.ALPHABET) == len(set(codes.ALPHABET)) == 32
    for letter in "ILOU":
        assert letter not in codes.ALPHABET
        assert letter.lower() not in codes.ALPHABET
    assert codes.ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_receipt_code_has_at_least_80_bits_of_entropy() -> None:
    bits = RECEIPT_CHARACTERS * math.log2(len(set(codes.ALPHABET)))
    assert bits >= 80
    assert bits == 100


def test_thousand_receipt_codes_are_all_distinct() -> None:
    values = {new_receipt_code().value for _ in range(1000)}
    assert len(values) == 1000


def test_receipt_codes_use_every_symbol_of_the_alphabet() -> None:
    # 1000 codes hold 20 000 symbols; a generator that skipped a symbol would lose entropy.
    seen = set("".join(new_receipt_code().value for _ in range(1000)))
    assert seen == set(codes.ALPHABET)


def test_display_is_five_groups_of_four_separated_by_dashes() -> None:
    code = new_receipt_code()
    assert DISPLAY_FORMAT.fullmatch(code.display)
    assert code.display.split("-") == [code.value[i : i + 4] for i in range(0, 20, 4)]
    assert code.display.replace("-", "") == code.value


def test_display_reads_back_as_the_same_code() -> None:
    code = new_receipt_code()
    assert parse_receipt_code(code.display) == code


def test_group_splits_into_groups_of_the_given_size() -> None:
    assert codes.group("ABCDEFGH") == "ABCD-EFGH"
    assert codes.group("ABCDEFGHJ", 3) == "ABC-DEF-GHJ"
    assert codes.group("ABCDE") == "ABCD-E"


@st.composite
def sloppy_typing(draw: st.DrawFn) -> tuple[str, str]:
    """A valid code and the way a hurried person typed it."""
    code = draw(CODES)
    typed: list[str] = []
    for symbol in code:
        separate: bool = draw(st.booleans())
        if typed and separate:
            typed.append(draw(st.sampled_from(SEPARATORS)))
        choices = [symbol, symbol.lower(), *LOOK_ALIKES.get(symbol, [])]
        typed.append(draw(st.sampled_from(choices)))
    prefix = draw(st.sampled_from(["", " ", "\u00a0", "-"]))
    suffix = draw(st.sampled_from(["", " ", "\n", "\u00a0"]))
    return code, prefix + "".join(typed) + suffix


@settings(max_examples=200, deadline=None)
@given(case=sloppy_typing())
def test_parse_forgives_case_separators_and_look_alike_letters(case: tuple[str, str]) -> None:
    code, typed = case
    parsed = parse_receipt_code(typed)
    assert parsed == ReceiptCode(code)
    assert parsed.value == code
    assert parsed.as_bytes() == ReceiptCode(code).as_bytes()
    assert receipt_lookup(parsed, SERVER_KEY) == receipt_lookup(ReceiptCode(code), SERVER_KEY)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("oooo-iiii-llll-OOOO-IILL", "0000-1111-1111-0000-1111"),
        ("abcd efgh jkmn pqrs tvwx", "ABCD-EFGH-JKMN-PQRS-TVWX"),
        ("ABCD\u00a0EFGH\u00a0JKMN\u00a0PQRS\u00a0TVWX", "ABCD-EFGH-JKMN-PQRS-TVWX"),
        ("  yz01-2345-6789-abcd-efgh  ", "YZ01-2345-6789-ABCD-EFGH"),
    ],
)
def test_parse_reads_typical_typing(typed: str, expected: str) -> None:
    assert parse_receipt_code(typed).display == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        " ",
        "----",
        "ABCD-EFGH-JKMN-PQRS-TVW",  # 19 symbols
        "ABCD-EFGH-JKMN-PQRS-TVWXY",  # 21 symbols
        "ABCD-EFGH-JKMN-PQRS-TVWX-ABCD-EFGH-JKMN-PQRS-TVWX",  # 40 symbols
        "ABCD-EFGH-JKMN-PQRS-TVW!",
        "ABCD-EFGH-JKMN-PQRS-TVWÜ",
        "ABCD-EFGH-JKMN-PQRS-TVWü",
        "ABCD-EFGH-JKMN-PQRS-TVWU",  # U is not Crockford, not even as a look-alike
        "ABCD-EFGH-JKMN-PQRS-TVW/",
        "ABCD-EFGH-JKMN-PQRS-TVW\x00",
        "ABCD-EFGH-JKMN-PQRS-TVW\u2212",  # the minus separates; 19 symbols are left
        "ABCD\u200bEFGH\u200bJKMN\u200bPQRS\u200bTVW",  # 19 symbols between invisible spaces
        "ABCD-EFGH-JKMN-PQRS-TVWＵ",  # full-width U is still U
        "ABCD-EFGH-JKMN-PQRS-TVWΣ",  # a Greek capital that looks like no symbol
        "ABCD-EFGH-JKMN-PQRS-TVWШ",  # a Cyrillic letter that looks like no symbol
        "ABCD-EFGH-JKMN-PQRS-TVWب",  # an Arabic letter
        "ABCD-EFGH-JKMN-PQRS-TVWĀ",  # a symbol with a mark is not that symbol
        "ABCD-EFGH-JKMN-PQRS-TVWX\u0301",  # a combining mark on the last symbol
        "ABCD-EFGH-JKMN-PQRS-TVW\ue000",  # a private-use character separates: 19 symbols
        "ABCD-EFGH-JKMN-PQRS-TVW\ud800",  # a lone surrogate separates: 19 symbols
        "ABCD-EFGH-JKMN-PQRS-TVW½",  # NFKC makes it 1⁄2: 21 symbols
    ],
)
def test_malformed_receipt_codes_raise_code_format_error(typed: str) -> None:
    with pytest.raises(codes.CodeFormatError):
        parse_receipt_code(typed)


def test_foreign_letter_that_upper_cases_to_two_letters_is_malformed() -> None:
    # 19 typed symbols; ß.upper() == "SS" would make 20, but ß is no symbol.
    with pytest.raises(codes.CodeFormatError):
        parse_receipt_code("ABCD-EFGH-JKMN-PQß-TVWX")


def test_a_ligature_reads_as_the_letters_it_joins() -> None:
    # NFKC spells the ligature ﬁ as "fi": two symbols, F and 1 (an I), as a PDF copy may hold.
    assert parse_receipt_code("ABCD-EFGH-JKMN-PQRS-TVﬁ").value == "ABCDEFGHJKMNPQRSTVF1"
    with pytest.raises(codes.CodeFormatError):
        parse_receipt_code("ABCD-EFGH-JKMN-PQRS-Tﬁ")  # 19 symbols


@pytest.mark.parametrize(
    "separator", [separator for separator in SEPARATORS if separator.strip(" -")]
)
def test_every_separator_between_groups_is_forgiven(separator: str) -> None:
    code = new_receipt_code()
    assert parse_receipt_code(separator.join(code.display.split("-"))) == code
    assert parse_receipt_code(separator.join(code.value)) == code  # even between every symbol


@pytest.mark.parametrize(
    ("symbol", "look_alike"),
    [(symbol, look_alike) for symbol, typed in LOOK_ALIKES.items() for look_alike in typed],
)
def test_every_look_alike_reads_as_its_symbol(symbol: str, look_alike: str) -> None:
    assert codes.normalise(look_alike) == symbol
    code = "ABCD-EFGH-JKMN-PQRS-TVW" + look_alike
    assert parse_receipt_code(code).value == "ABCDEFGHJKMNPQRSTVW" + symbol


def test_a_code_typed_in_full_width_with_minus_signs_reads_as_the_code() -> None:
    code = new_receipt_code()
    full_width = "".join(chr(ord(char) + 0xFEE0) for char in code.display.replace("-", ""))
    typed = "\u2212".join(full_width[i : i + 4] for i in range(0, 20, 4))
    assert parse_receipt_code(typed) == code
    assert parse_receipt_code("\u3000" + typed.lower() + "\u3000") == code


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_normalise_never_fails_and_leaves_only_encodable_symbols(text: str) -> None:
    normal = codes.normalise(text)
    normal.encode()  # hashed for recovery codes: a surrogate here would be a server error
    try:
        parsed = parse_receipt_code(text)
    except codes.CodeFormatError:
        return
    assert len(parsed.value) == RECEIPT_CHARACTERS
    assert set(parsed.value) <= set(codes.ALPHABET)
    assert codes.normalise(parsed.value) == parsed.value


def test_code_format_error_is_a_value_error() -> None:
    assert issubclass(codes.CodeFormatError, ValueError)
    with pytest.raises(ValueError, match="not a valid code"):
        parse_receipt_code("!")


@settings(max_examples=40, deadline=None)
@given(code=CODES, position=st.integers(min_value=0, max_value=RECEIPT_CHARACTERS - 1))
def test_dropping_one_symbol_makes_the_code_malformed(code: str, position: int) -> None:
    with pytest.raises(codes.CodeFormatError):
        parse_receipt_code(code[:position] + code[position + 1 :])


@settings(max_examples=100, deadline=None)
@given(code=CODES)
def test_to_bytes_then_from_bytes_gives_back_the_code(code: str) -> None:
    data = codes.to_bytes(code, RECEIPT_CHARACTERS)
    assert len(data) == 13  # 100 bits
    assert codes.from_bytes(data, RECEIPT_CHARACTERS) == code


@settings(max_examples=100, deadline=None)
@given(value=st.integers(min_value=0, max_value=32**RECEIPT_CHARACTERS - 1))
def test_from_bytes_then_to_bytes_gives_back_the_value(value: int) -> None:
    data = value.to_bytes(13, "big")
    code = codes.from_bytes(data, RECEIPT_CHARACTERS)
    assert len(code) == RECEIPT_CHARACTERS
    assert codes.to_bytes(code, RECEIPT_CHARACTERS) == data


@settings(max_examples=50, deadline=None)
@given(case=sloppy_typing())
def test_to_bytes_of_sloppy_typing_equals_to_bytes_of_the_code(case: tuple[str, str]) -> None:
    code, typed = case
    assert codes.to_bytes(typed, RECEIPT_CHARACTERS) == codes.to_bytes(code, RECEIPT_CHARACTERS)


def test_to_bytes_is_big_endian_base32() -> None:
    assert codes.to_bytes("0" * 19 + "1", 20) == (1).to_bytes(13, "big")
    assert codes.to_bytes("0" * 18 + "10", 20) == (32).to_bytes(13, "big")
    assert codes.to_bytes("Z" * 20, 20) == (2**100 - 1).to_bytes(13, "big")


def test_from_bytes_refuses_values_too_large_for_the_code() -> None:
    with pytest.raises(codes.CodeFormatError):
        codes.from_bytes((2**100).to_bytes(13, "big"), RECEIPT_CHARACTERS)


def test_random_code_has_the_asked_length_and_alphabet() -> None:
    for length in (1, 8, 52):
        code = codes.random_code(length)
        assert len(code) == length
        assert set(code) <= set(codes.ALPHABET)


def test_receipt_lookup_is_64_hex_characters() -> None:
    lookup = receipt_lookup(new_receipt_code(), SERVER_KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", lookup)


def test_receipt_lookup_is_deterministic_for_the_same_code_and_key() -> None:
    code = new_receipt_code()
    assert receipt_lookup(code, SERVER_KEY) == receipt_lookup(ReceiptCode(code.value), SERVER_KEY)


def test_receipt_lookup_depends_on_the_server_key() -> None:
    code = new_receipt_code()
    assert receipt_lookup(code, SERVER_KEY) != receipt_lookup(code, OTHER_SERVER_KEY)


def test_receipt_lookup_differs_for_other_codes() -> None:
    lookups = {receipt_lookup(new_receipt_code(), SERVER_KEY) for _ in range(300)}
    assert len(lookups) == 300


def test_receipt_lookup_differs_for_codes_one_symbol_apart() -> None:
    code = "0" * 20
    neighbour = "0" * 19 + "1"
    assert receipt_lookup(ReceiptCode(code), SERVER_KEY) != receipt_lookup(
        ReceiptCode(neighbour), SERVER_KEY
    )


@settings(max_examples=50, deadline=None)
@given(code=CODES)
def test_receipt_lookup_does_not_contain_the_code(code: str) -> None:
    receipt = ReceiptCode(code)
    lookup = receipt_lookup(receipt, SERVER_KEY)
    for shown in (code, code.lower(), receipt.display, receipt.as_bytes().hex()):
        assert shown not in lookup
        assert shown not in lookup.upper()


def test_mailbox_key_round_trips_with_the_receipt_code() -> None:
    code = new_receipt_code()
    salt = new_receipt_salt()
    wrapped = wrap_with_receipt(SECRET, code, salt, CONTEXT)
    assert wrapped[0] == RECEIPT_WRAP_V1
    assert SECRET not in wrapped
    assert unwrap_with_receipt(wrapped, code, salt, CONTEXT) == SECRET


def test_mailbox_opens_with_the_code_as_a_person_types_it() -> None:
    code = new_receipt_code()
    salt = new_receipt_salt()
    wrapped = wrap_with_receipt(SECRET, code, salt, CONTEXT)
    typed = " " + code.display.lower().replace("-", "\u00a0") + " "
    assert unwrap_with_receipt(wrapped, parse_receipt_code(typed), salt, CONTEXT) == SECRET


def test_mailbox_does_not_open_with_another_code() -> None:
    code = new_receipt_code()
    salt = new_receipt_salt()
    wrapped = wrap_with_receipt(SECRET, code, salt, CONTEXT)
    other = new_receipt_code()
    assert other != code
    with pytest.raises(SealError):
        unwrap_with_receipt(wrapped, other, salt, CONTEXT)


def test_mailbox_does_not_open_with_another_salt() -> None:
    code = new_receipt_code()
    salt = new_receipt_salt()
    assert len(salt) == SALT_BYTES == 16
    wrapped = wrap_with_receipt(SECRET, code, salt, CONTEXT)
    with pytest.raises(SealError):
        unwrap_with_receipt(wrapped, code, new_receipt_salt(), CONTEXT)


@pytest.mark.parametrize("other_context", ["mailbox:43", "report:42", "", "mailbox:42 "])
def test_mailbox_does_not_open_in_another_context(other_context: str) -> None:
    code = new_receipt_code()
    salt = new_receipt_salt()
    wrapped = wrap_with_receipt(SECRET, code, salt, CONTEXT)
    with pytest.raises(SealError):
        unwrap_with_receipt(wrapped, code, salt, other_context)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_flipping_any_bit_of_a_receipt_wrapped_key_fails(data: st.DataObject) -> None:
    code = new_receipt_code()
    salt = new_receipt_salt()
    wrapped = wrap_with_receipt(SECRET, code, salt, CONTEXT)
    bit = data.draw(st.integers(min_value=0, max_value=len(wrapped) * 8 - 1), label="bit")
    tampered = bytearray(wrapped)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SealError):
        unwrap_with_receipt(bytes(tampered), code, salt, CONTEXT)


def test_truncated_receipt_wrapped_key_fails() -> None:
    code = new_receipt_code()
    salt = new_receipt_salt()
    wrapped = wrap_with_receipt(SECRET, code, salt, CONTEXT)
    for length in range(len(wrapped)):
        with pytest.raises(SealError):
            unwrap_with_receipt(wrapped[:length], code, salt, CONTEXT)


def test_receipt_code_repr_and_str_do_not_show_the_code() -> None:
    code = new_receipt_code()
    for shown in (repr(code), str(code), f"{code}", f"{code!r}", repr([code]), repr({1: code})):
        assert code.value not in shown
        assert code.value.lower() not in shown
        assert code.display not in shown
        for group in code.display.split("-"):
            assert group not in shown
        assert "hidden" in shown


def test_unwrap_errors_do_not_show_the_receipt_code() -> None:
    code = new_receipt_code()
    salt = new_receipt_salt()
    wrapped = wrap_with_receipt(SECRET, code, salt, CONTEXT)
    with pytest.raises(SealError) as caught:
        unwrap_with_receipt(wrapped, code, salt, "elsewhere")
    for shown in (str(caught.value), repr(caught.value)):
        assert code.value not in shown
        assert code.display not in shown
