"""The mailbox's text rules (``app.mailbox``), shared by the status page and the case page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask_babel import force_locale

from app.mailbox import MAX_TEXT, REFUSALS, REPORTER, STAFF, TextRefused, checked_text


def test_a_text_is_stored_normalised() -> None:
    typed = "\ufeff  Zeile eins\r\nZeile zwei\x00 \u200cمی\u200cخواهم  "
    assert checked_text(typed, author=REPORTER) == "Zeile eins\nZeile zwei \u200cمی\u200cخواهم"


@pytest.mark.parametrize("author", [REPORTER, STAFF])
@pytest.mark.parametrize("typed", ["", "   ", "\r\n\t", "\u200b\u200e\x00\ufeff", "\ufe0f\u2060"])
def test_a_text_with_nothing_visible_is_refused_as_empty(author: str, typed: str) -> None:
    with pytest.raises(TextRefused) as refused:
        checked_text(typed, author=author)
    assert (refused.value.reason, refused.value.author) == ("empty", author)


@pytest.mark.parametrize("author", [REPORTER, STAFF])
def test_the_limit_counts_the_normalised_text(author: str) -> None:
    assert len(checked_text("x" * MAX_TEXT, author=author)) == MAX_TEXT
    # What normalising removes does not count: trimmed space, CRLF as one LF, control characters.
    padded = "  " + "x" * (MAX_TEXT - 2) + "\r\n" + "y" + "\x00" * 50 + "  "
    assert len(checked_text(padded, author=author)) == MAX_TEXT
    with pytest.raises(TextRefused) as refused:
        checked_text("x" * (MAX_TEXT + 1), author=author)
    assert (refused.value.reason, refused.value.author) == ("too_long", author)


@pytest.mark.parametrize(
    ("author", "reason", "german", "english"),
    [
        (REPORTER, "empty", "Bitte schreiben Sie eine Nachricht.", "Please write a message."),
        (REPORTER, "too_long", "Die Nachricht ist zu lang (höchstens 5000 Zeichen).",
         "The message is too long (at most 5000 characters)."),
        (STAFF, "empty", "Bitte schreiben Sie einen Text.", "Please write a text."),
        (STAFF, "too_long", "Der Text ist zu lang (höchstens 5000 Zeichen).",
         "The text is too long (5000 characters at most)."),
    ],
)  # fmt: skip
def test_each_page_keeps_its_own_words_in_every_language(
    app: Flask, author: str, reason: str, german: str, english: str
) -> None:
    refused = TextRefused(reason, author=author)
    with app.test_request_context(), force_locale("de"):
        assert refused.message == german
    with app.test_request_context(), force_locale("en"):
        assert refused.message == english


def test_the_words_and_the_text_boxes_name_the_limit_the_rule_applies(app: Flask) -> None:
    """The limit is written into the refusals and the pages' text boxes; they must not drift."""
    assert set(REFUSALS) == {REPORTER, STAFF}
    for author, words in REFUSALS.items():
        assert set(words) == {"empty", "too_long"}
        for language in ("de", "en"):
            with app.test_request_context(), force_locale(language):
                assert f"{MAX_TEXT} " in TextRefused("too_long", author=author).message
    boxes = {
        "intake/status.html": ['name="text"'],
        "moderation/case.html": ['id="note" name="text"', 'id="message" name="text"'],
    }
    assert app.jinja_loader is not None
    for template, names in boxes.items():
        html = app.jinja_loader.get_source(app.jinja_env, template)[0]
        for name in names:
            (box,) = re.findall(rf"<textarea [^>]*{name}[^>]*>", html)
            assert f'maxlength="{MAX_TEXT}"' in box
