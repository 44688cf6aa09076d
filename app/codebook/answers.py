"""Reading a submission against the codebook: one set of rules for the form and the API.

Input is a mapping of question id to a string (or a list of strings for several-answers
questions), as a form post or a JSON body gives it. Output is either the coded answers, split
into what stays in clear (codes, dates, consents) and what is sealed (free text), or a message per
question. Questions hidden by their condition are dropped, so text typed into a field that no
longer applies is never stored.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from app.codebook import FREE_TEXT_KINDS, Codebook, Question
from app.dates import EARLIEST_DATE
from app.text import is_blank, normalise_text, without_format_characters

TRUE_VALUES = frozenset({"y", "yes", "on", "true", "1"})
# Addresses, not prose: an invisible character in them is a copying accident.
ADDRESS_KINDS = frozenset({"email", "url"})

MESSAGES = {
    "required": _l("Bitte beantworten Sie diese Frage."),
    "required_choice": _l("Bitte wählen Sie eine Antwort."),
    "required_consent": _l("Ohne diese Einwilligung können wir die Meldung nicht annehmen."),
    "unknown_choice": _l("Diese Antwort gibt es nicht. Bitte wählen Sie aus der Liste."),
    "too_long": _l("Der Text ist zu lang. Bitte kürzen Sie ihn auf höchstens %(max)s Zeichen."),
    "date": _l("Bitte geben Sie ein Datum im Format TT.MM.JJJJ oder JJJJ-MM-TT an."),
    "month": _l("Bitte geben Sie einen Monat im Format JJJJ-MM an."),
    "future": _l("Das Datum liegt in der Zukunft."),
    "too_early": _l("Das Datum liegt zu weit zurück (vor 1990)."),
    "period_order": _l("Das Ende des Zeitraums liegt vor seinem Anfang."),
    "email": _l("Das sieht nicht wie eine E-Mail-Adresse aus."),
    "url": _l("Bitte geben Sie einen vollständigen Link an, der mit https:// beginnt."),
    "wrong_type": _l("Diese Angabe hat die falsche Form."),
    "not_boolean": _l("Die Antwort ist true oder false (ein JSON-Wahrheitswert)."),
    "not_string": _l("Die Antwort ist ein Text (eine JSON-Zeichenkette)."),
    "not_list": _l(
        "Die Antwort ist eine Liste von Antwortcodes (ein JSON-Array von Zeichenketten)."
    ),
    "repeated": _l("Jede Antwort darf nur einmal in der Liste stehen."),
}


@dataclass
class Answers:
    """A valid submission: codes, dates and consents in clear; ``texts`` to be sealed."""

    choices: dict[str, str] = field(default_factory=dict)
    multi: dict[str, list[str]] = field(default_factory=dict)
    dates: dict[str, dt.date] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Answers(choices={self.choices}, texts={sorted(self.texts)})"


class InvalidAnswers(ValueError):
    """Raised by ``parse_answers``: ``errors`` maps question ids to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(f"invalid answers for {sorted(errors)}")
        self.errors = errors


def _single(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        if len(value) != 1:
            raise TypeError
        value = value[0]
    if not isinstance(value, str):
        raise TypeError
    value = value.strip()
    return value or None


def _many(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in values):
        raise TypeError
    return list(dict.fromkeys(item.strip() for item in values if item.strip()))


def _typed_text(kind: str, text: str) -> str | None:
    """Free text as it is stored (``app.text``); None when nothing visible is left."""
    if kind in ADDRESS_KINDS:
        text = without_format_characters(text)
    text = normalise_text(text)
    return None if is_blank(text) else text


def parse_date(text: str, *, strict: bool = False) -> dt.date | None:
    """ISO (2026-03-01) as date inputs send it, or German (01.03.2026) as people type it;
    ``strict``: ISO only, in ASCII digits (the API's ``format: date``).

    Year 0 reads as the calendar's first day, so that it is refused as too early rather than
    as malformed; a day the month lacks is None.
    """
    if strict:
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text)
    else:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    if not match:
        return None
    if match.group(1):
        year, month, day = (int(match.group(n)) for n in (1, 2, 3))
    else:
        day, month, year = (int(match.group(n)) for n in (4, 5, 6))
    try:
        return dt.date(max(year, 1), month, day)
    except ValueError:
        return None


def parse_month(text: str, *, strict: bool = False) -> dt.date | None:
    """The first day of 2026-03 (or, not ``strict``, 3.2026 or 03/2026); year 0 as in
    ``parse_date``."""
    if strict:
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text)
    else:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})|(\d{1,2})[./](\d{4})", text)
    if not match:
        return None
    year, month = (
        (int(match.group(1)), int(match.group(2)))
        if match.group(1)
        else (int(match.group(4)), int(match.group(3)))
    )
    if not 1 <= month <= 12:
        return None
    return dt.date(max(year, 1), month, 1)


def month_end(first: dt.date) -> dt.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def is_visible(question: Question, data: Mapping[str, Any]) -> bool:
    condition = question.show_if
    if condition is None:
        return True
    try:
        given = set(_many(data.get(condition.question)))
    except TypeError:
        return False
    return bool(given & condition.any_of)


def _check_text(question: Question, text: str) -> str | None:
    if question.max_length is not None and len(text) > question.max_length:
        return "too_long"
    if question.kind == "email":
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError:
            return "email"
    if question.kind == "url":
        parts = urlsplit(text)
        if parts.scheme not in {"http", "https"} or not parts.netloc or " " in text:
            return "url"
    return None


def _message(key: str, question: Question) -> str:
    if key == "too_long":
        return str(MESSAGES[key]) % {"max": question.max_length}
    return str(MESSAGES[key])


def parse_answers(
    codebook: Codebook, data: Mapping[str, Any], today: dt.date, *, strict: bool = False
) -> Answers:
    """The coded answers of one submission.

    ``strict`` reads a partner's JSON as the OpenAPI document describes it: each answer given
    has its JSON type (true or false for consents, a string for one answer, an array of
    distinct strings for several), codes, dates and months count exactly as sent, and an answer
    to a question whose condition does not hold is checked all the same (and still not stored).
    Otherwise answers are read as a browser sends them: checkbox values, spaces around codes.

    Raises:
        InvalidAnswers: with one localised message per question that is wrong or missing.
    """
    answers, errors = Answers(), {}
    for question in codebook.questions.values():
        if question.kind == "images":
            continue
        visible = is_visible(question, data)
        given = strict and question.id in data
        if not visible and not given:
            continue
        value = data.get(question.id)
        try:
            problem = _json_type_problem(question, value) if given else None
            # A hidden question's answer is checked into a scratch copy, never kept.
            kept = answers if visible else Answers()
            problem = problem or _read(question, value, kept, today, strict=strict)
        except TypeError:
            problem = "wrong_type"
        if problem:
            errors[question.id] = _message(problem, question)
    if "period_start" in answers.dates and "period_end" in answers.dates:
        if answers.dates["period_end"] < answers.dates["period_start"]:
            errors["period_end"] = _message("period_order", codebook.question("period_end"))
    if errors:
        raise InvalidAnswers(errors)
    return answers


def _json_type_problem(question: Question, value: Any) -> str | None:
    """What is wrong with the JSON type of an answer sent to the API (``null`` included)."""
    if question.kind in {"consent", "flag"}:
        return None if isinstance(value, bool) else "not_boolean"
    if question.kind == "multi":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return "not_list"
        return "repeated" if len(set(value)) != len(value) else None
    return None if isinstance(value, str) else "not_string"


def _read(
    question: Question, value: Any, answers: Answers, today: dt.date, *, strict: bool = False
) -> str | None:
    """Store one valid answer in ``answers``; return an error key otherwise."""
    kind = question.kind
    if kind == "multi":
        chosen = list(value) if strict and value is not None else _many(value)
        if not chosen:
            return "required_choice" if question.required else None
        if not set(chosen) <= set(question.codes):
            return "unknown_choice"
        answers.multi[question.id] = chosen
        return None
    if kind in {"consent", "flag"}:
        if isinstance(value, bool):  # a checkbox field, or JSON true/false
            given = value
        else:
            text = _single(value)
            given = text is not None and text.lower() in TRUE_VALUES
        if question.required and not given:
            return "required_consent"
        answers.flags[question.id] = given
        return None
    if strict and isinstance(value, str):
        if question.max_length is not None and len(value) > question.max_length:
            return "too_long"  # as sent: the document's maxLength counts every character
        # Codes, dates, addresses and links count exactly as sent; prose is normalised.
        text = _typed_text(kind, value) if kind in {"text", "textarea"} else value
    else:
        text = _single(value)
        if text is not None and kind in FREE_TEXT_KINDS:
            text = _typed_text(kind, text)
    if text is None:
        if not question.required:
            return None
        return "required_choice" if kind in {"single", "select"} else "required"
    if kind in {"single", "select"}:
        if text not in question.codes:
            return "unknown_choice"
        answers.choices[question.id] = text
        return None
    if kind in {"date", "month"}:
        parse = parse_date if kind == "date" else parse_month
        day = parse(text, strict=strict)
        if day is None:
            return kind
        if day > today:
            return "future"
        if day < EARLIEST_DATE:
            return "too_early"
        answers.dates[question.id] = day
        return None
    problem = _check_text(question, text)
    if problem is None:
        answers.texts[question.id] = text
    return problem
