"""Codes that people read aloud and type on phones: receipt codes and the recovery key.

Crockford's Base32 alphabet has no I, L, O or U. Reading input forgives what a frightened person
or their phone does to a code (``normalise``):

- compatibility forms are folded (NFKC): full-width ``ＡＢ１２``, circled or superscript digits;
- every character that is not a letter, digit or mark separates groups: spaces of any width
  (also U+3000), dashes (also the Japanese ー) and the minus sign U+2212, slashes, commas, dots,
  invisible format characters such as the zero-width space;
- case is ignored, and digits of any script count as their value (٣ or ۳ is 3);
- look-alikes count as the symbol they look like: O as 0; I, L, Turkish ı and İ as 1; Cyrillic
  and Greek letters that look like a Latin capital of the alphabet (А В Е К М Н Р С Т Х …,
  Α Β Ε Ζ Η Κ Μ Ν Ρ Τ Υ Χ), in either case, as that capital; Cyrillic О, Greek Ο as 0; Cyrillic
  І, Greek Ι as 1.

What is left must then be exactly the code's number of symbols of the alphabet: a letter with
a mark, or any other letter, never reads as a symbol, so no shorter or different code is
accepted than before.
"""

from __future__ import annotations

import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {char: index for index, char in enumerate(ALPHABET)}
# Upper-case characters that are read as a symbol of the alphabet; lower case is upper-cased
# first, so "а" (Cyrillic) reads as "А", then as "A".
_LOOK_ALIKES = {
    "O": "0", "I": "1", "L": "1", "\u0130": "1",  # Latin; Turkish İ (ı upper-cases to I)
    # Cyrillic: А В Е Ѕ І Ј К М Н О Р Ԛ С Т У Ү Х Ԝ
    "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u0405": "S", "\u0406": "1", "\u0408": "J",
    "\u041a": "K", "\u041c": "M", "\u041d": "H", "\u041e": "0", "\u0420": "P", "\u051a": "Q",
    "\u0421": "C", "\u0422": "T", "\u0423": "Y", "\u04ae": "Y", "\u0425": "X", "\u051c": "W",
    # Greek: Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ
    "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H", "\u0399": "1",
    "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "0", "\u03a1": "P", "\u03a4": "T",
    "\u03a5": "Y", "\u03a7": "X",
}  # fmt: skip
# Letters (L), marks (M) and numbers (N) are read; every other category separates, and so does
# the Japanese long-vowel mark ー (a letter), which Japanese keyboards give for a dash.
_READ_CATEGORIES = frozenset("LMN")
_LETTER_DASHES = frozenset("\u30fc")


class CodeFormatError(ValueError):
    """The text is not a code of the expected length and alphabet."""


def _symbol(char: str) -> str:
    if char.isdecimal():  # a digit of any script
        return str(unicodedata.decimal(char))
    upper = char.upper()
    # Upper-casing can lengthen a letter ("ß" -> "SS"): such a letter stays, and fails.
    if len(upper) != 1:
        return char
    return _LOOK_ALIKES.get(upper, upper)


def normalise(text: str) -> str:
    """The symbols of a typed code: separators dropped, case and look-alikes folded (see above).

    Characters that are no symbol of the alphabet stay in the result, so that checking it
    (``to_bytes``) fails; the result never holds a character that cannot be encoded.
    """
    return "".join(
        _symbol(char)
        for char in unicodedata.normalize("NFKC", text)
        if unicodedata.category(char)[0] in _READ_CATEGORIES and char not in _LETTER_DASHES
    )


def random_code(characters: int) -> str:
    """``characters`` symbols from ``secrets``: 5 bits each."""
    return "".join(secrets.choice(ALPHABET) for _ in range(characters))


def group(code: str, size: int = 4) -> str:
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def to_bytes(code: str, characters: int) -> bytes:
    """The code's value as bytes (for key derivation and lookup).

    Raises:
        CodeFormatError: when the normalised code has another length or a foreign character.
    """
    normal = normalise(code)
    if len(normal) != characters or any(char not in _DECODE for char in normal):
        raise CodeFormatError("not a valid code")
    value = 0
    for char in normal:
        value = value * 32 + _DECODE[char]
    return value.to_bytes((characters * 5 + 7) // 8, "big")


def from_bytes(data: bytes, characters: int) -> str:
    value = int.from_bytes(data, "big")
    if value >= 32**characters:
        raise CodeFormatError("the value does not fit the code length")
    symbols = []
    for _ in range(characters):
        value, index = divmod(value, 32)
        symbols.append(ALPHABET[index])
    return "".join(reversed(symbols))
