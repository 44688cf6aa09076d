"""Free text as people type it (app/text): kept in every script, never refused for a character."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.text import is_blank, isolate, normalise_text, without_format_characters

# What may never be stored: it breaks encoding (surrogates) or means nothing in text.
NONCHARACTERS = {chr(c) for c in range(0xFDD0, 0xFDF0)} | {
    chr(plane * 0x10000 + last) for plane in range(17) for last in (0xFFFE, 0xFFFF)
}


def is_harmful(char: str) -> bool:
    category = unicodedata.category(char)
    return (
        (category == "Cc" and char not in "\t\n")
        or category == "Cs"
        or char in NONCHARACTERS
        or char in "\ufeff\ufff9\ufffa\ufffb\u2028\u2029\r"
    )


# Every text a person or a client can send, with the awkward characters well represented.
AWKWARD = st.sampled_from(
    [
        "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\r", "\r\n", "\n", "\t", "\x0b", "\x0c",
        "\u2028", "\u2029", "\ud800", "\udfff", "\ufeff", "\ufffe", "\uffff", "\U0010ffff",
        "\ufdd0", "\ufff9", "\ufffb", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u061c",
        "\u00ad", "\u202e", "\u2066", "\u2069", "\u2060", "\U000e0067", "\U000e007f", "\ue000",
        "\ufe0f", "\u0301", "e", " ", "\u00a0", "\u3000", "A\u030a", "\u212b", "\u1100\u1161",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(AWKWARD, st.text(max_size=3)), max_size=30).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(text=TEXTS)
def test_any_text_normalises_to_harmless_text_and_normalising_again_changes_nothing(
    text: str,
) -> None:
    normal = normalise_text(text)
    assert not [char for char in normal if is_harmful(char)]
    normal.encode("utf-8")  # storable and sealable: no lone surrogate is left
    assert normal == unicodedata.normalize("NFC", normal)
    assert normal == normal.strip()
    assert normalise_text(normal) == normal


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))))
def test_text_without_harmful_characters_keeps_every_character(text: str) -> None:
    # Format characters, private use, unknown code points and every script are text.
    text = "".join(char for char in text if not is_harmful(char))
    text = unicodedata.normalize("NFC", text).strip()
    assert normalise_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "می\u200cخواهم گزارش بدهم",  # Persian: "I want to report", with a zero-width non-joiner
        "🤦\u200d♀\ufe0f",  # woman facepalming: a ZWJ sequence
        "🏳\ufe0f\u200d🌈",  # rainbow flag
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland (tags)
        "\u061cقال: \u200fمرحبا\u200f (٢٠٢٦)",  # Arabic with ALM and RLM
        "Diskriminierungs\u00adschutz\u00adgesetz",  # German soft hyphens
        "שלום \u2067עברית\u2069 and \u2066English\u2069",  # bidi isolates
        "a\u202eb\u202cc",  # an override and its pop: shown isolated, not refused
        "Wort\u2060verbinder, \u200bbreite Lücke",  # word joiner, zero-width space
        "Privat: \ue000\U000f0000",  # private use
        "Zeile 1\nZeile 2\tmit Tab",
    ],
)
def test_what_people_type_is_kept_unchanged(text: str) -> None:
    assert normalise_text(text) == text
    assert not is_blank(text)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Zeile 1\r\nZeile 2\rZeile 3", "Zeile 1\nZeile 2\nZeile 3"),
        (
            "eins\u2028zwei\u2029drei\x85vier\x0bfünf\x0csechs",
            "eins\nzwei\ndrei\nvier\nfünf\nsechs",
        ),
        ("\r\n\r\n", ""),
        ("Text\x00mit Nullbyte", "Textmit Nullbyte"),
        ("\x1b[31mrot\x1b[0m", "[31mrot[0m"),
        ("a\x7fb\x9bc", "abc"),
        ("Hälfte\ud800 Surrogat\udc00", "Hälfte Surrogat"),
        ("\ufeffmit BOM", "mit BOM"),
        ("nicht\ufffe Zeichen\uffff\ufdd0\U0001fffe", "nicht Zeichen"),
        ("an\ufff9no\ufffatation\ufffb", "annotation"),
        ("  \t Leerraum \n ", "Leerraum"),
        ("\x00 Anfang", "Anfang"),
        ("A\u030angström", "Ångström"),  # NFC: one character, as most keyboards type it
        ("\u212b", "\u00c5"),  # the Angstrom sign is canonically Å
        ("\u1100\u1161", "\uac00"),  # Hangul jamo compose
    ],
)
def test_harmful_or_meaningless_characters_are_normalised_away(typed: str, stored: str) -> None:
    assert normalise_text(typed) == stored


@pytest.mark.parametrize(
    ("text", "blank"),
    [
        ("", True),
        (" \n\t\u3000\u00a0", True),
        ("\u200b", True),
        ("\u200d\u200c\u200e\u200f\u2060\u00ad", True),
        ("\ufe0f", True),
        ("\u202e", True),
        (".", False),
        ("\ue000", False),
        ("\u0301", False),
        ("🏳\ufe0f", False),
        ("ا", False),
    ],
)
def test_blank_means_nothing_visible(text: str, blank: bool) -> None:
    assert is_blank(text) is blank


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("\u200fhttps://example.org/a\u200b", "https://example.org/a"),
        ("\u202ahttps://example.org\u202c", "https://example.org"),
        ("name@example.org\u200e", "name@example.org"),
        ("https://example.org", "https://example.org"),
    ],
)
def test_addresses_lose_invisible_format_characters(typed: str, address: str) -> None:
    assert without_format_characters(typed) == address


def test_isolate_wraps_in_first_strong_isolate_and_pop() -> None:
    assert isolate("صورة.jpg") == "\u2068صورة.jpg\u2069"
    assert isolate("a\u202eb") == "\u2068a\u202eb\u2069"  # the override ends at the PDI
