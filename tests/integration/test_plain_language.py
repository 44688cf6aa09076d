"""The Leichte Sprache page: there, true to its rules, and reachable from every German page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from tests.pages import LANGUAGES, linked_urls, page_paths

PAGE = "/de/leichte-sprache"
# Leichte Sprache: short sentences, each on its own line (Netzwerk Leichte Sprache's rules).
MAX_WORDS = 12


class _Lines(HTMLParser):
    """The page's lines of text in <main>: a <br>, a paragraph, an item or a heading ends one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self._in_main = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self._in_main = True
        if tag in {"br", "p", "li", "h1", "h2", "h3"}:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._in_main = False
        if tag in {"p", "li", "h1", "h2", "h3"}:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self._in_main:
            self.lines[-1] += data


def text_lines(html: str) -> list[str]:
    parser = _Lines()
    parser.feed(html)
    return [line for line in (re.sub(r"\s+", " ", raw).strip() for raw in parser.lines) if line]


def test_the_page_explains_the_service_and_links_to_the_form(client: FlaskClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in html
    urls = linked_urls(html)
    for target in ("/de/report", "/de/report/status", "/de/help", "/de/statistics"):
        assert target in urls
    text = " ".join(text_lines(html))
    for topic in ("Was ist das Melde-Portal?", "Wie melden Sie", "Was passiert nach dem Melden?",
                  "So geht der Beleg-Code"):  # fmt: skip
        assert topic in text


def test_every_line_is_one_short_sentence(client: FlaskClient) -> None:
    lines = text_lines(client.get(PAGE).get_data(as_text=True))
    body = lines[lines.index("Leichte Sprache") + 1 :]
    assert len(body) > 60
    for line in body:
        words = line.split()
        assert len(words) <= MAX_WORDS, line
        # One statement per line: no second sentence after a full stop, question or exclamation.
        assert not re.search(r"[.?!] +[A-ZÄÖÜ]", line), line


@pytest.mark.parametrize("path", [path for path in page_paths() if path.startswith("/de/")])
def test_every_german_page_links_to_it_in_the_header(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    header = html[html.index("<header") : html.index("</header>")]
    assert f'href="{PAGE}"' in header


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "de"])
def test_it_is_german_only(client: FlaskClient, lang: str) -> None:
    assert client.get(f"/{lang}/leichte-sprache").status_code == 404
    header = client.get(f"/{lang}/help").get_data(as_text=True).split("</header>")[0]
    assert PAGE not in header


def test_its_language_switch_leads_to_the_other_languages_home(client: FlaskClient) -> None:
    html = client.get(PAGE).get_data(as_text=True)
    for lang in LANGUAGES:
        if lang != "de":
            assert f'href="/{lang}/"' in html


def test_staff_pages_do_not_carry_it(client: FlaskClient) -> None:
    html = client.get("/moderation/login").get_data(as_text=True)
    assert PAGE not in html
