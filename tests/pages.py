"""What the public site consists of, shared by the integration and browser tests."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.support import NullTranslations, Translations

from app.config import DEFAULT_LANGUAGE
from app.config import LANGUAGES as CONFIGURED

LANGUAGES = tuple(language.code for language in CONFIGURED)
DIRECTIONS = {language.code: language.direction for language in CONFIGURED}
PAGES = ("", "network", "help", "about-reports", "privacy", "imprint", "accessibility")
# Pages that exist in one language only: Leichte Sprache is a form of German.
GERMAN_ONLY_PAGES = ("leichte-sprache",)

# Every name from the network's own page (the project's source of facts) must be on ours.
NETWORK_NAMES = (
    "NIR",
    "Erich-Zeigner-Haus e.V.",
    "Zentrum für Europäische und Orientalische Kultur (ZEOK e.V.)",
    "Verband binationaler Familien und Partnerschaften Leipzig",
    "Junge Islamkonferenz (Regionalgruppe Halle-Leipzig)",
    "Kleinzschocher bleibt bunt",
    "Dialoge für Gohlis",
    "Bündnis 8. Mai",
    "Stolpersteine putzen",
    "Leipziger Platzna(h)me",
    "Leipzig nimmt Platz",
    "Nikolaikirchgemeinde",
    "Thomasgemeinde",
    "Takva Moschee Leipzig",
    "Ahmadiyya Gemeinde",
    "CLAIM – Allianz gegen Islam- und Muslimfeindlichkeit",
    "I-Report",
)
# Facts about CLAIM and I-Report, as each language writes its numbers.
CLAIM_FACTS = {
    "de": ("2017", "47", "Juni 2021", "898", "1.926", "3.080", "November 2025"),
    "en": ("2017", "47", "June 2021", "898", "1,926", "3,080", "November 2025"),
    "tr": ("2017", "47", "Haziran 2021", "898", "1.926", "3.080", "Kasım 2025"),
    # Arabic pages write numbers in Western digits without a group separator, as the press does.
    "ar": ("2017", "47", "يونيو 2021", "898", "1926", "3080", "نوفمبر 2025"),
}


@cache
def _catalog(lang: str) -> NullTranslations:
    return Translations.load(str(Path(__file__).parents[1] / "app" / "translations"), [lang])


def say(lang: str, text: str, **values: object) -> str:
    """The interface text ``text`` (German, the source language) as a page in ``lang`` shows
    it, with ``values`` put in: tests find buttons and notices in every language by it."""
    translated = text if lang == DEFAULT_LANGUAGE else _catalog(lang).gettext(text)
    return translated % values if values else translated


def page_paths() -> list[str]:
    return [f"/{lang}/{page}" for lang in LANGUAGES for page in PAGES] + [
        f"/de/{page}" for page in GERMAN_ONLY_PAGES
    ]


class _TextAndLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.urls: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if (
                name in {"href", "src", "action", "formaction", "srcset", "poster", "data"}
                and value
            ):
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def visible_text(html: str) -> str:
    parser = _TextAndLinks()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.text))


def linked_urls(html: str) -> list[str]:
    parser = _TextAndLinks()
    parser.feed(html)
    return parser.urls


def is_on_site(url: str) -> bool:
    return url.startswith(("/", "#", "mailto:", "tel:")) and not url.startswith("//")
