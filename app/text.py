"""What people type into free-text fields, made safe to store and show without refusing it.

Reporters write in every script and from every kind of keyboard: Persian needs the zero-width
non-joiner (می‌خواهم), emoji such as 🤦‍♀️ or 🏳️‍🌈 are joined by the zero-width joiner, the
Scotland flag is spelled with tag characters, Arabic text carries direction marks, German text
soft hyphens. All of that is text, so it is kept. What is normalised instead of refused:

- line breaks: CRLF, CR, VT, FF, NEL and the Unicode line and paragraph separators become LF;
- removed, because it has no meaning in text or breaks storage and display: C0 and C1 control
  characters other than tab and line breaks, DEL, lone surrogates (a JSON body can carry
  ``"\\ud800"``, which cannot be encoded as UTF-8), noncharacters (U+FDD0–FDEF and the last two
  code points of every plane), the byte order mark U+FEFF and the interlinear annotation
  characters U+FFF9–FFFB;
- surrounding white space is trimmed, then the text is put in NFC, so the same words typed on
  two keyboards are the same characters.

Everything else stays: other format characters (joiners, direction marks, isolates and
embeddings, soft hyphen, tag characters, word joiner), private-use characters and code points
this Python does not know yet. Direction controls cannot reorder the page around the text:
templates show free text in an element that isolates it (``dir="auto"`` with the class
``message-text`` in static/css/site.css, or ``<bdi>``), and a value put into a sentence goes
through ``isolate``. Nothing is refused for its characters, so a person never meets a complaint
about something invisible; limits on length apply to the normalised text, and a text of nothing
but white space and invisible characters counts as empty (``is_blank``).
"""

from __future__ import annotations

import re
import unicodedata

# Line breaks people's systems send, all read as one LF.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
# Tab, LF and the line breaks above are not in this class; they are text.
_REMOVED = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufeff\ufff9-\ufffb" + _NONCHARACTERS + "]"
)
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def normalise_text(text: str) -> str:
    """The text as it is stored: harmful characters removed, line breaks as LF, trimmed, NFC.

    Idempotent: normalising a normalised text changes nothing.
    """
    text = _REMOVED.sub("", text)
    text = _LINE_BREAKS.sub("\n", text)
    return unicodedata.normalize("NFC", text.strip())


def is_blank(text: str) -> bool:
    """True when nothing in the text would be visible: only white space and format characters.

    A required field filled with a zero-width space alone has not been answered.
    """
    return all(
        char.isspace()
        or unicodedata.category(char) == "Cf"
        or _VARIATION_SELECTORS.fullmatch(char) is not None
        for char in text
    )


def without_format_characters(text: str) -> str:
    """The text without invisible format characters, for values that are addresses, not prose.

    A link or e-mail address copied from a right-to-left chat often brings a direction mark or
    a zero-width space along; no address needs one, and the person cannot see it to remove it.
    """
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def isolate(text: str) -> str:
    """The text between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, for a sentence.

    The plain-text form of ``<bdi>``: whatever direction controls the text holds end with it,
    and an Arabic file name in a German sentence does not reorder the words around it.
    """
    return f"\u2068{text}\u2069"
