"""No page mixes writing directions wrongly, in any configured language.

A right-to-left page (Arabic) is `<html dir="rtl">`, and everything in it that must read left to
right whatever the page — the receipt code people type back, addresses, e-mail addresses, phone
numbers — is isolated in an element with `dir="ltr"`; otherwise the bidirectional algorithm
reorders its parts ("+49 341 1234" shows as "1234 341 49+"). A left-to-right page marks every
piece of right-to-left script (the language switch's "العربية") with its own `dir`. Every field a
person types into has a `dir`: `auto` for their own words (an Arabic text on a German page, or a
German one on an Arabic page, reads in its own direction), `ltr` for the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.codebook import current_codebook
from app.intake.steps import steps_of
from tests.factories import report_form_data
from tests.functional.conftest import hidden_value, post_report, receipt_code, walk_to_step
from tests.pages import DIRECTIONS, page_paths

CODES = list(DIRECTIONS)

# Text that reads left to right in every language: a receipt code, an address or path of this
# site, an e-mail address, a phone number of two or more groups of digits, a range.
LEFT_TO_RIGHT = re.compile(
    r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){2,}\b"
    r"|https?://\S+|(?<![\w/])/[a-z]{2}/[\w/-]*"
    r"|[\w.+-]+@[\w-]+\.[\w.]+"
    r"|\+?\d[\d/-]*(?: [\d/-]+)+\d"
    # A range of numbers with a dash that is no minus: unisolated, "2025–2026" reads "2026–2025"
    # (with a hyphen-minus, "2026-03" stays as written).
    r"|\b\d+ ?[–—] ?\d+\b"
)
# Letters of the scripts written right to left (Hebrew, Arabic and its supplements).
RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
TYPED_INPUTS = {"text", "email", "tel", "search", "url", "password"}


@dataclass
class _Element:
    tag: str
    lang: str | None
    direction: str | None


@dataclass
class DirectionCheck(HTMLParser):
    """Walks a page and collects every place where directions are mixed wrongly."""

    page_direction: str = "ltr"
    problems: list[str] = field(default_factory=list)
    html_tag: tuple[str | None, str | None] = (None, None)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._open: list[_Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_tag = (attributes.get("lang"), attributes.get("dir"))
        lang, direction = attributes.get("lang"), attributes.get("dir")
        if lang in DIRECTIONS and lang != self.html_tag[0] and direction != DIRECTIONS[lang]:
            self.problems.append(f'<{tag} lang="{lang}"> has dir={direction!r}')
        typed = tag == "textarea" or (
            tag == "input" and (attributes.get("type") or "text") in TYPED_INPUTS
        )
        if typed and direction not in {"auto", "ltr"}:
            self.problems.append(f"<{tag} name={attributes.get('name')!r}> has no dir")
        if tag not in VOID:
            self._open.append(_Element(tag, lang, direction))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def _direction_here(self) -> str:
        for element in reversed(self._open):
            if element.tag == "bdi" and element.direction is None:
                return "auto"
            if element.direction:
                return element.direction
        return self.page_direction

    def handle_data(self, data: str) -> None:
        if any(element.tag in {"script", "style", "textarea"} for element in self._open):
            return
        here = self._direction_here()
        if self.page_direction == "rtl":
            for match in LEFT_TO_RIGHT.finditer(data):
                if here not in {"ltr", "auto"}:
                    self.problems.append(f"{match.group()!r} is not isolated left to right")
        elif RIGHT_TO_LEFT.search(data) and here not in {"rtl", "auto"}:
            self.problems.append(f"{data.strip()!r} is right-to-left script without its dir")


def direction_problems(html: str, lang: str) -> list[str]:
    check = DirectionCheck(page_direction=DIRECTIONS[lang])
    check.feed(html)
    check.close()
    if check.html_tag != (lang, DIRECTIONS[lang]):
        check.problems.insert(0, f"<html> has lang, dir = {check.html_tag}")
    return check.problems


def every_page(client: FlaskClient, lang: str) -> dict[str, str]:
    """Every public page a person meets, by a name: content pages, a missing page, each form
    step, the receipt, the status page after a wrong code and opened."""
    pages: dict[str, str] = {}
    for path in [path for path in page_paths() if path.startswith(f"/{lang}/")] + [
        f"/{lang}/statistics",
        f"/{lang}/report/status",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.get_data(as_text=True)
    missing = client.get(f"/{lang}/no-such-page")
    assert missing.status_code == 404
    pages["not found"] = missing.get_data(as_text=True)
    for step in steps_of(current_codebook()):
        shown, _ = walk_to_step(client, report_form_data(), step.number, lang)
        pages[f"step {step.number}"] = shown.get_data(as_text=True)
    receipt = post_report(client, report_form_data(), lang)
    pages["receipt"] = receipt.get_data(as_text=True)
    csrf = hidden_value(pages[f"/{lang}/report/status"], "csrf_token")
    wrong = client.post(f"/{lang}/report/status", data={"csrf_token": csrf, "code": "ABCD-EFGH"})
    assert wrong.status_code in {400, 404, 422}
    pages["wrong code"] = wrong.get_data(as_text=True)
    opened = client.post(
        f"/{lang}/report/status",
        data={"csrf_token": csrf, "code": receipt_code(receipt)},
        follow_redirects=True,
    )
    pages["status"] = opened.get_data(as_text=True)
    return pages


@pytest.mark.parametrize("lang", CODES)
def test_no_page_mixes_directions(intake_app: Flask, lang: str) -> None:
    client = intake_app.test_client()
    problems = {
        name: found
        for name, html in every_page(client, lang).items()
        if (found := direction_problems(html, lang))
    }
    assert problems == {}


@pytest.mark.parametrize(
    ("html", "lang", "problem"),
    [
        ('<html lang="de" dir="ltr"><p>العربية</p></html>', "de", "right-to-left script"),
        ('<html lang="de" dir="ltr"><textarea name="x"></textarea></html>', "de", "no dir"),
        ('<html lang="de" dir="ltr"><input name="code"></html>', "de", "no dir"),
        ('<html lang="de"><p>Text</p></html>', "de", "<html> has lang, dir"),
    ],
)
def test_the_check_finds_mixed_directions(html: str, lang: str, problem: str) -> None:
    assert any(problem in found for found in direction_problems(html, lang))


def test_the_check_finds_left_to_right_text_not_isolated_on_a_right_to_left_page() -> None:
    check = DirectionCheck(page_direction="rtl")
    check.feed("<p>رمزكم ABCD-EFGH-JKMN-PQRS، الهاتف +49 341 123456، /ar/report/status، (0–9)</p>")
    assert len(check.problems) == 4
    isolated = DirectionCheck(page_direction="rtl")
    isolated.feed(
        '<p>رمزكم <strong dir="ltr">ABCD-EFGH-JKMN-PQRS</strong>، الهاتف'
        ' <bdi>+49 341 123456</bdi>، <span dir="ltr">/ar/report/status</span></p>'
    )
    assert isolated.problems == []


def test_the_check_accepts_isolated_text() -> None:
    html = (
        '<html lang="de" dir="ltr"><a lang="xx" dir="rtl">العربية</a>'
        '<p>Code <strong dir="ltr">ABCD-EFGH-JKMN</strong></p>'
        '<textarea name="t" dir="auto"></textarea><input type="hidden" name="h"></html>'
    )
    assert direction_problems(html, "de") == []
