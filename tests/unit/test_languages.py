"""The configured languages: a valid list, and everything each shipped language needs.

A language is one entry in ``LANGUAGES`` (app/config.py) plus a catalog (except German, the
source language), a text for every codebook entry and a file for every content page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import check_codebook_languages, create_app
from app.codebook import CodebookError, Text, current_codebook, parse_codebook
from app.config import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    ConfigurationError,
    Language,
    parse_languages,
)
from app.pages.services import split_front_matter
from tests.pages import GERMAN_ONLY_PAGES

PROJECT = Path(__file__).resolve().parents[2]
CONTENT = PROJECT / "app" / "pages" / "content"
CODES = [language.code for language in LANGUAGES]


def test_german_is_shipped_and_first() -> None:
    assert CODES[0] == DEFAULT_LANGUAGE
    assert parse_languages(LANGUAGES) == LANGUAGES


@pytest.mark.parametrize("code", CODES)
def test_every_shipped_language_has_codebook_texts(code: str) -> None:
    assert code in current_codebook().languages


@pytest.mark.parametrize("code", [code for code in CODES if code != DEFAULT_LANGUAGE])
def test_every_shipped_language_but_german_has_a_catalog(code: str) -> None:
    for suffix in ("po", "mo"):
        assert (
            PROJECT / "app" / "translations" / code / "LC_MESSAGES" / f"messages.{suffix}"
        ).is_file()


def shared_pages() -> list[str]:
    """The German pages every language has: not those in one language only (Leichte Sprache)."""
    only_german = {f"{page}.md" for page in GERMAN_ONLY_PAGES}
    return sorted(
        path.name
        for path in (CONTENT / DEFAULT_LANGUAGE).glob("*.md")
        if path.name not in only_german
    )


@pytest.mark.parametrize("code", CODES)
def test_every_shipped_language_has_every_page(code: str) -> None:
    german = set(shared_pages())
    assert german
    only_german = {f"{page}.md" for page in GERMAN_ONLY_PAGES}
    assert {path.name for path in (CONTENT / code).glob("*.md")} - only_german == german


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ((), "is a list of languages"),
        ("de", "is a list of languages"),
        ([["de", "Deutsch"], ["de", "German"]], "lists de more than once"),
        ([["en", "English"]], "must include 'de'"),
        ([["de", "Deutsch"], ["EN", "English"]], "'EN' is not two lower-case letters"),
        ([["de", "Deutsch"], ["eng", "English"]], "'eng' is not two lower-case letters"),
        ([["de", "Deutsch"], ["e1", "English"]], "'e1' is not two lower-case letters"),
        ([["de", "Deutsch"], ["xx", "Testisch"]], "'xx' is not a language Babel knows"),
        ([["de", "Deutsch"], ["ar", "العربية", "RTL"]], "direction of 'ar' is 'RTL'"),
        ([["de", "Deutsch"], ["ar", "العربية", "right"]], "direction of 'ar' is 'right'"),
        ([["de", "Deutsch"], ["tr", " "]], "'tr' needs its name"),
        ([["de", "Deutsch"], "en"], "'en' is not a language"),
        ([["de", "Deutsch"], ["en", "English", "ltr", "x"]], "is not a language"),
        ([["de", "Deutsch"], ["en", 1]], "is not a language"),
        ([Language("de", "Deutsch"), Language("é", "x")], "not two lower-case letters"),
    ],
)
def test_a_broken_language_list_is_refused(value: Any, problem: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_languages(value)
    assert problem in str(refused.value)


def test_a_language_list_from_the_environment_is_read() -> None:
    """``MELDEPORTAL_LANGUAGES`` arrives as JSON: lists, not ``Language``."""
    parsed = parse_languages([["de", "Deutsch"], ["ar", "العربية", "rtl"]])
    assert parsed == (Language("de", "Deutsch"), Language("ar", "العربية", "rtl"))


def test_a_text_falls_back_to_german_and_cannot_change() -> None:
    text = Text(de="Frage", en="Question")
    assert (text("de"), text("en"), text("tr")) == ("Frage", "Question", "Frage")
    assert dict(text) == {"de": "Frage", "en": "Question"}
    assert text == Text({"en": "Question", "de": "Frage"})
    assert hash(text) == hash(Text({"en": "Question", "de": "Frage"}))
    with pytest.raises(AttributeError):
        text._texts = {}
    with pytest.raises(ValueError, match="'de'"):
        Text(en="Question")


def minimal_codebook(extra: dict[str, str] | None = None) -> dict[str, Any]:
    def t(word: str) -> dict[str, str]:
        return {"de": word, "en": word, **(extra or {})}

    return {
        "version": "test",
        "osce_categories": {"violent_attack": t("Gewalt")},
        "sections": [
            {
                "id": "s",
                "title": t("Teil"),
                "questions": [
                    {
                        "id": "incident_types",
                        "kind": "multi",
                        "label": t("Was?"),
                        "answers": [
                            {"code": "a", "label": t("A"), "severity": 1, "osce": "violent_attack"}
                        ],
                    },
                    {"id": "land", "kind": "select", "label": t("Land"),
                     "answers": [{"code": "sn", "label": t("Sachsen")}]},
                ],
            }
        ],
    }  # fmt: skip


def test_a_codebook_in_a_third_language_is_read() -> None:
    codebook = parse_codebook(minimal_codebook({"tr": "Türkçe"}))
    assert codebook.languages == ("de", "en", "tr")
    assert codebook.question("land").label("tr") == "Türkçe"
    assert codebook.question("land").label("ar") == "Land"


def test_a_codebook_needs_every_language_on_every_text() -> None:
    data = minimal_codebook()
    data["sections"][0]["questions"][1]["answers"][0]["label"]["tr"] = "Saksonya"
    with pytest.raises(CodebookError, match=r"needs a text for each of de, en, tr"):
        parse_codebook(data)


def test_a_codebook_language_is_a_language_code() -> None:
    with pytest.raises(CodebookError, match="'Deutsch' is not a language code"):
        parse_codebook(minimal_codebook({"Deutsch": "x"}))


# --- every language but German is a translation of the German texts -----------------------------

TRANSLATED = [code for code in CODES if code != DEFAULT_LANGUAGE]


def test_the_codebook_may_hold_more_languages_than_are_configured() -> None:
    check_codebook_languages(LANGUAGES)
    check_codebook_languages(LANGUAGES[:1])  # an operator may serve German only


def test_a_configured_language_without_codebook_texts_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    persian = Language("fa", "فارسی", "rtl")
    with pytest.raises(ConfigurationError, match=r"LANGUAGES lists fa, but .*codebook.yaml"):
        check_codebook_languages((*LANGUAGES, persian))
    monkeypatch.setenv("MELDEPORTAL_ENV", "development")
    with pytest.raises(ConfigurationError, match="LANGUAGES lists fa"):
        create_app({"INSTANCE_PATH": str(tmp_path), "LANGUAGES": (*LANGUAGES, persian)})


def page_outline(path: Path, lang: str) -> tuple[list[str], list[str], int]:
    """A page's front-matter keys, its on-site link targets (language prefix cut off; a link to
    a German-only page, such as Leichte Sprache, is the same from every language) and how many
    headings it has."""
    meta, body = split_front_matter(path.read_text(encoding="utf-8"), path)
    german_only = tuple(f"/{DEFAULT_LANGUAGE}/{page}" for page in GERMAN_ONLY_PAGES)
    targets: list[str] = []
    for target in re.findall(r"\]\((/[^)\s]*)\)", body):
        if target.startswith(german_only):
            targets.append(target)
            continue
        assert target.startswith(f"/{lang}/"), (path, target)
        targets.append(target.removeprefix(f"/{lang}"))
    assert all(isinstance(value, str) and value.strip() for value in meta.values()), path
    headings = len(re.findall(r"^#{2,4} ", body, flags=re.MULTILINE))
    return sorted(meta), targets, headings


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_page_is_prepared_with_the_same_keys_links_and_headings(code: str) -> None:
    german = [CONTENT / DEFAULT_LANGUAGE / name for name in shared_pages()]
    assert german
    assert sorted(path.name for path in (CONTENT / code).glob("*.md")) == [p.name for p in german]
    for source in german:
        translated = CONTENT / code / source.name
        assert page_outline(translated, code) == page_outline(source, DEFAULT_LANGUAGE), source.name


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_contact_text_is_prepared(code: str) -> None:
    def texts(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, dict):
            if DEFAULT_LANGUAGE in value:
                yield value
            else:
                for item in value.values():
                    yield from texts(item)
        elif isinstance(value, list):
            for item in value:
                yield from texts(item)

    contacts = yaml.safe_load((CONTENT / "contacts.yaml").read_text(encoding="utf-8"))
    localised = list(texts(contacts))
    assert localised
    for text in localised:
        assert str(text.get(code, "")).strip(), text
        assert text[code] != text[DEFAULT_LANGUAGE], text  # not the German text copied
