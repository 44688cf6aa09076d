"""Each catalog holds every interface text, translated, and its compiled form is current.

One catalog per configured language except German, the source language of the texts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.config import DEFAULT_LANGUAGE, LANGUAGES

PROJECT = Path(__file__).resolve().parents[2]
TRANSLATIONS = PROJECT / "app" / "translations"
CATALOG_LANGUAGES = [lang.code for lang in LANGUAGES if lang.code != DEFAULT_LANGUAGE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def source_messages() -> set[str]:
    with (PROJECT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    messages = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT), method_map, options_map, keywords=KEYWORDS
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def _key_and_text(message: Message) -> tuple[str, str]:
    """Singular id and translation; a plural counts as translated only with every form."""
    if isinstance(message.id, tuple | list):
        forms = [str(form) for form in message.string or ()]
        return str(message.id[0]), " | ".join(forms) if all(forms) else ""
    return str(message.id), str(message.string)


def catalog_of(lang: str) -> dict[str, str]:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    return dict(_key_and_text(message) for message in catalog if message.id and not message.fuzzy)


def test_extraction_finds_the_interface_texts() -> None:
    messages = source_messages()
    assert "Zum Inhalt springen" in messages  # from a template
    assert "Seite nicht gefunden" in messages  # from Python code


@pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
def test_every_text_is_translated(lang: str) -> None:
    catalog = catalog_of(lang)
    missing = sorted(source_messages() - {msgid for msgid, text in catalog.items() if text})
    assert missing == [], "run `make update-catalogs` and translate these"


@pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
def test_catalog_has_no_leftover_texts(lang: str) -> None:
    unused = sorted(set(catalog_of(lang)) - source_messages())
    assert unused == [], "run `make update-catalogs` to drop these"


@pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
def test_compiled_catalog_matches_the_po_file(lang: str) -> None:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = dict(_key_and_text(m) for m in read_mo(handle) if m.id)
    assert compiled == catalog_of(lang), "run `pybabel compile -d app/translations`"


@pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
def test_every_translation_keeps_the_placeholders_of_its_text(lang: str) -> None:
    """A translation that drops, renames or adds a ``%(name)s`` would fail as the page renders."""
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    problems = [
        f"{message.id!r}: {error}" for message, errors in catalog.check() for error in errors
    ]
    for message in catalog:
        if not message.id or not message.python_format:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            found = set(PLACEHOLDER.findall(str(text)))
            # A plural form may leave out the count ("one minute"), never add or rename one.
            if found - wanted or (len(strings) == 1 and found != wanted):
                problems.append(f"{ids[0]!r} -> {text!r}: {sorted(found)} != {sorted(wanted)}")
    assert problems == []
