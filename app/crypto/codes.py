"""Codes that people read aloud and type on phones: receipt codes and the recovery key.

Crockford's Base32 alphabet has no I, L, O or U; when reading input, O counts as 0 and I or L as
1, and spaces, dashes and case are ignored — a frightened person's typing still finds the report.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {char: index for index, char in enumerate(ALPHABET)}
_DECODE.update({"O": 0, "I": 1, "L": 1})
# Separators people or their phones put between groups (incl. Unicode spaces and dashes).
_IGNORED = str.maketrans("", "", " -_.\t\n\r\u00a0\u2009\u2010\u2011\u2013\u2014\u202f")


class CodeFormatError(ValueError):
    """The text is not a code of the expected length and alphabet."""


def normalise(text: str) -> str:
    """Upper case, separators removed, look-alike letters mapped to their digits."""
    cleaned = text.translate(_IGNORED)
    # Upper-casing other scripts can change the length ("ß" -> "SS"): leave them to fail.
    cleaned = cleaned.upper() if cleaned.isascii() else cleaned
    return "".join(ALPHABET[_DECODE[char]] if char in _DECODE else char for char in cleaned)


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
