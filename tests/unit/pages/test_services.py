from __future__ import annotations

import os
from pathlib import Path

import pytest
from markupsafe import Markup

from app.pages.services import (
    ContentError,
    PageNotFound,
    isolate_left_to_right,
    load_contacts,
    load_page,
    render_markdown,
    split_front_matter,
)


def test_markdown_is_sanitised() -> None:
    html = render_markdown(
        "## Hi\n\n<script>alert(1)</script>\n\n<p onclick='x()' style='color:red'>p</p>\n\n"
        "[home](/de/) [evil](https://tracker.example/) [js](javascript:alert(1)) "
        "[mail](mailto:a@example.org) [call](tel:110)"
    )
    assert "<script" not in html
    assert "onclick" not in html
    assert "style=" not in html
    assert "tracker.example" not in html
    assert "javascript:" not in html
    assert '<a href="/de/">home</a>' in html
    assert 'href="mailto:a@example.org"' in html
    assert 'href="tel:110"' in html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "starts with"),
        ("---\ntitle: x\nnever closed", "not closed"),
        ("---\nsummary: no title\n---\nbody", "title"),
    ],
)
def test_malformed_front_matter_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        split_front_matter(text, Path("page.md"))


def test_operator_file_in_instance_wins_and_edits_are_read_again(tmp_path: Path) -> None:
    shipped = load_page(str(tmp_path), "de", "help")
    own = tmp_path / "content" / "de" / "help.md"
    own.parent.mkdir(parents=True)
    own.write_text('---\ntitle: "Eigene Hilfe"\n---\nText A\n', encoding="utf-8")
    assert load_page(str(tmp_path), "de", "help").title == "Eigene Hilfe"
    assert shipped.title != "Eigene Hilfe"
    own.write_text('---\ntitle: "Geändert"\n---\nText B\n', encoding="utf-8")
    os.utime(own, ns=(1, 1))
    assert "Text B" in load_page(str(tmp_path), "de", "help").body


def test_unknown_page_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(PageNotFound):
        load_page(str(tmp_path), "de", "nonexistent")


def test_contacts_are_localised_and_operator_editable(tmp_path: Path) -> None:
    shipped_en = load_contacts(str(tmp_path), "en")
    assert any(c.phone == "110" for group in shipped_en for c in group.contacts)
    assert shipped_en[0].title == "In an emergency"
    own = tmp_path / "content" / "contacts.yaml"
    own.parent.mkdir(parents=True)
    own.write_text(
        "groups:\n  - title: {de: Vor Ort, en: Local}\n    contacts:\n"
        "      - name: Beratung Leipzig\n        description: {de: Hilfe, en: Help}\n"
        "        phone: 0341 000\n",
        encoding="utf-8",
    )
    (group,) = load_contacts(str(tmp_path), "en")
    assert group.title == "Local"
    assert group.contacts[0].name == "Beratung Leipzig"
    assert group.contacts[0].description == "Help"


def test_contact_with_unknown_key_is_a_content_error(tmp_path: Path) -> None:
    own = tmp_path / "content" / "contacts.yaml"
    own.parent.mkdir(parents=True)
    own.write_text("groups:\n  - title: T\n    contacts:\n      - nmae: typo\n")
    with pytest.raises(ContentError, match="nmae"):
        load_contacts(str(tmp_path), "de")


@pytest.mark.parametrize(
    ("text", "run"),
    [
        ("ayrıca 0800 111 0 222", "0800 111 0 222"),
        ("الرقم +49 341 1234567، مجانًا", "+49 341 1234567"),
        ("schreiben Sie an info@example.org.", "info@example.org"),
        ("https://example.org/a?b=1 ist die Seite", "https://example.org/a?b=1"),
    ],
)
def test_left_to_right_runs_are_isolated(text: str, run: str) -> None:
    assert f'<bdi dir="ltr">{run}</bdi>' in isolate_left_to_right(text)


def test_isolation_escapes_text_and_leaves_tags_and_single_numbers_alone() -> None:
    html = isolate_left_to_right(Markup('<a href="tel:08001110222">0800 111</a> &amp; 110'))
    assert html == '<a href="tel:08001110222"><bdi dir="ltr">0800 111</bdi></a> &amp; 110'
    assert isolate_left_to_right("<b>2026</b>") == "&lt;b&gt;2026&lt;/b&gt;"


def test_markdown_pages_isolate_phone_numbers() -> None:
    assert '<bdi dir="ltr">0800 111 0 222</bdi>' in render_markdown("Telefon 0800 111 0 222")
