"""The versioned report codebook: every question, answer code and label, in one YAML file.

``codebook.yaml`` is the single source of the form, the coded incident and the statistics. The
loader validates it strictly and computes a hash of its content; every report stores the version
and hash it was filled against. ``history.yaml`` records the hash of every released version, so
a changed codebook cannot ship under an old version number (a test holds this).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

from app.config import DEFAULT_LANGUAGE, LANGUAGE_CODE

CODEBOOK_FILE = Path(__file__).parent / "codebook.yaml"
HISTORY_FILE = Path(__file__).parent / "history.yaml"

CHOICE_KINDS = frozenset({"single", "select", "multi"})
FREE_TEXT_KINDS = frozenset({"text", "textarea", "email", "url"})  # always sealed
CLEAR_KINDS = frozenset({"date", "month", "consent", "flag"})
FILE_KINDS = frozenset({"images"})
KINDS = CHOICE_KINDS | FREE_TEXT_KINDS | CLEAR_KINDS | FILE_KINDS
CODE_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


class CodebookError(ValueError):
    """The codebook file is malformed; the message names the place."""


class Text(Mapping[str, str]):
    """A text by language code, e.g. ``Text(de="Frage", en="Question")``; immutable.

    ``text(lang)`` gives it in ``lang``, or in German (the source language) where the codebook
    has no text in ``lang``.
    """

    __slots__ = ("_texts",)
    _texts: dict[str, str]

    def __init__(self, texts: Mapping[str, str] | None = None, /, **by_code: str) -> None:
        merged = {**(texts or {}), **by_code}
        if DEFAULT_LANGUAGE not in merged:
            raise ValueError(f"a text needs its {DEFAULT_LANGUAGE!r} version")
        object.__setattr__(self, "_texts", merged)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Text cannot be changed")

    def __call__(self, lang: str) -> str:
        return self._texts.get(lang, self._texts[DEFAULT_LANGUAGE])

    def __getitem__(self, lang: str) -> str:
        return self._texts[lang]

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __hash__(self) -> int:
        return hash(frozenset(self._texts.items()))

    def __repr__(self) -> str:
        return f"Text({self._texts!r})"


@dataclass(frozen=True)
class Answer:
    code: str
    label: Text
    help: Text | None = None
    severity: int | None = None  # incident types: 1 is the most severe
    osce: str | None = None  # incident types: the OSCE/ODIHR category code
    land: str | None = None  # towns: the Land the town is in


@dataclass(frozen=True)
class Condition:
    """Shown (and required, when the question is required) only if ``question`` has one of
    ``any_of`` among its answers."""

    question: str
    any_of: frozenset[str]


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    label: Text
    help: Text | None = None
    required: bool = False
    answers: tuple[Answer, ...] = ()
    max_length: int | None = None
    max_files: int | None = None
    show_if: Condition | None = None

    @property
    def sealed(self) -> bool:
        return self.kind in FREE_TEXT_KINDS or self.kind in FILE_KINDS

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(answer.code for answer in self.answers)

    def answer(self, code: str) -> Answer:
        for answer in self.answers:
            if answer.code == code:
                return answer
        raise KeyError(code)


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    intro: Text | None
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Codebook:
    version: str
    hash: str
    sections: tuple[Section, ...]
    osce_categories: Mapping[str, Text] = field(default_factory=dict)
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)  # every text has each of these

    @cached_property
    def questions(self) -> dict[str, Question]:
        # Built once: the form, the rules and the templates look questions up constantly.
        return {q.id: q for section in self.sections for q in section.questions}

    def question(self, question_id: str) -> Question:
        return self.questions[question_id]

    def most_severe_type(self, type_codes: Iterable[str]) -> str | None:
        """The most severe of the given incident types (for headline counting)."""
        types = self.question("incident_types")
        chosen = [types.answer(code) for code in type_codes]
        ranked = sorted(chosen, key=lambda answer: answer.severity or 10**6)
        return ranked[0].code if ranked else None


def _text(
    value: Any, where: str, languages: frozenset[str], *, optional: bool = False
) -> Text | None:
    if value is None and optional:
        return None
    if not isinstance(value, dict) or set(value) != languages:
        raise CodebookError(f"{where}: needs a text for each of {', '.join(sorted(languages))}")
    if not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise CodebookError(f"{where}: texts must not be empty")
    return Text({lang: text.strip() for lang, text in value.items()})


def _required_text(value: Any, where: str, languages: frozenset[str]) -> Text:
    text = _text(value, where, languages)
    assert text is not None  # noqa: S101 - _text only returns None when optional
    return text


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or not set(value) <= CODE_CHARACTERS:
        raise CodebookError(f"{where}: a code is lower-case letters, digits and '_'")
    return value


_QUESTION_KEYS = {"id", "kind", "label", "help", "required", "answers", "max_length",
                  "max_files", "show_if"}  # fmt: skip
_ANSWER_KEYS = {"code", "label", "help", "severity", "osce", "land"}


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _answer(data: Any, where: str, languages: frozenset[str]) -> Answer:
    if not isinstance(data, dict) or set(data) - _ANSWER_KEYS:
        raise CodebookError(f"{where}: unknown keys {sorted(set(data) - _ANSWER_KEYS)}")
    code = _code(data.get("code"), where)
    severity = data.get("severity")
    if severity is not None and (isinstance(severity, bool) or not isinstance(severity, int)
                                 or severity < 1):  # fmt: skip
        raise CodebookError(f"{where}.{code}: severity is a whole number from 1")
    return Answer(
        code=code,
        label=_required_text(data.get("label"), f"{where}.{code}.label", languages),
        help=_text(data.get("help"), f"{where}.{code}.help", languages, optional=True),
        severity=data.get("severity"),
        osce=data.get("osce"),
        land=data.get("land"),
    )


def _question(data: Any, where: str, languages: frozenset[str]) -> Question:
    if not isinstance(data, dict):
        raise CodebookError(f"{where}: a question is a mapping")
    unknown = set(data) - _QUESTION_KEYS
    if unknown:
        raise CodebookError(f"{where}: unknown keys {sorted(unknown)}")
    qid = _code(data.get("id"), where)
    where = f"{where} ({qid})"
    kind = data.get("kind")
    if kind not in KINDS:
        raise CodebookError(f"{where}: kind must be one of {sorted(KINDS)}")
    answers = tuple(
        _answer(item, f"{where}.answers[{n}]", languages)
        for n, item in enumerate(data.get("answers") or [])
    )
    if (kind in CHOICE_KINDS) != bool(answers):
        raise CodebookError(f"{where}: choice questions, and only they, have answers")
    codes = [answer.code for answer in answers]
    if len(codes) != len(set(codes)):
        raise CodebookError(f"{where}: duplicate answer codes")
    if not isinstance(data.get("required", False), bool):
        raise CodebookError(f"{where}: required is true or false")
    if kind in FREE_TEXT_KINDS and not _positive(data.get("max_length")):
        raise CodebookError(f"{where}: free text needs a max_length")
    if kind in FILE_KINDS and not _positive(data.get("max_files")):
        raise CodebookError(f"{where}: images need max_files")
    show_if = None
    if data.get("show_if") is not None:
        condition = data["show_if"]
        if (
            not isinstance(condition, dict)
            or set(condition) != {"question", "any_of"}
            or not isinstance(condition["question"], str)
            or not isinstance(condition["any_of"], list)
            or not condition["any_of"]
        ):
            raise CodebookError(f"{where}: show_if has 'question' and a list 'any_of'")
        show_if = Condition(condition["question"], frozenset(condition["any_of"]))
    return Question(
        id=qid,
        kind=kind,
        label=_required_text(data.get("label"), f"{where}.label", languages),
        help=_text(data.get("help"), f"{where}.help", languages, optional=True),
        required=bool(data.get("required", False)),
        answers=answers,
        max_length=data.get("max_length"),
        max_files=data.get("max_files"),
        show_if=show_if,
    )


def canonical_hash(data: Any) -> str:
    """SHA-256 of the parsed content: layout and comments in the YAML do not change it."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_codebook(data: Any) -> Codebook:
    """Validate the parsed YAML and build the codebook.

    Raises:
        CodebookError: naming the first problem found.
    """
    try:
        return _parse_codebook(data)
    except (TypeError, AttributeError, KeyError) as error:
        raise CodebookError(f"the codebook's structure is malformed ({error})") from None


def _languages(data: dict[str, Any]) -> frozenset[str]:
    """Every language any text is in, and German: each text must be in all of them."""
    languages = {DEFAULT_LANGUAGE}
    for text in _raw_texts(data):
        languages.update(text)
    for code in languages:
        if not isinstance(code, str) or not LANGUAGE_CODE.fullmatch(code):
            raise CodebookError(f"{code!r} is not a language code (two lower-case letters)")
    return frozenset(languages)


def _raw_texts(data: dict[str, Any]) -> Iterator[dict[Any, Any]]:
    """The texts of the parsed YAML that are mappings (the others fail their own check)."""

    def mappings(*values: Any) -> Iterator[dict[Any, Any]]:
        yield from (value for value in values if isinstance(value, dict))

    osce = data.get("osce_categories")
    yield from mappings(*(osce.values() if isinstance(osce, dict) else ()))
    for section in mappings(*(data.get("sections") or ())):
        yield from mappings(section.get("title"), section.get("intro"))
        for question in mappings(*(section.get("questions") or ())):
            yield from mappings(question.get("label"), question.get("help"))
            for answer in mappings(*(question.get("answers") or ())):
                yield from mappings(answer.get("label"), answer.get("help"))


def _parse_codebook(data: Any) -> Codebook:
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise CodebookError("the codebook needs a 'version' string")
    languages = _languages(data)
    osce = {
        _code(code, f"osce_categories.{code}"): _required_text(
            text, f"osce_categories.{code}", languages
        )
        for code, text in (data.get("osce_categories") or {}).items()
    }
    sections = []
    for n, section in enumerate(data.get("sections") or []):
        where = f"sections[{n}]"
        sid = _code(section.get("id"), where)
        questions = tuple(
            _question(q, f"{where}.questions[{m}]", languages)
            for m, q in enumerate(section.get("questions") or [])
        )
        sections.append(
            Section(
                id=sid,
                title=_required_text(section.get("title"), f"{where}.title", languages),
                intro=_text(section.get("intro"), f"{where}.intro", languages, optional=True),
                questions=questions,
            )
        )
    codebook = Codebook(
        data["version"], canonical_hash(data), tuple(sections), osce, tuple(sorted(languages))
    )
    _check_references(codebook)
    return codebook


def _check_references(codebook: Codebook) -> None:
    questions: dict[str, Question] = {}
    for section in codebook.sections:
        for question in section.questions:
            if question.id in questions:
                raise CodebookError(f"question {question.id!r} appears twice")
            questions[question.id] = question
    for question in questions.values():
        condition = question.show_if
        if condition is None:
            continue
        target = questions.get(condition.question)
        if target is None or not condition.any_of <= set(target.codes):
            raise CodebookError(f"{question.id}: show_if names an unknown question or answer")
    types = questions.get("incident_types")
    if types is None or types.kind != "multi":
        raise CodebookError("the codebook needs a multi-choice question 'incident_types'")
    severities = [answer.severity for answer in types.answers]
    if None in severities or len(set(severities)) != len(severities):
        raise CodebookError("every incident type needs its own severity rank")
    for answer in types.answers:
        if answer.osce not in codebook.osce_categories:
            raise CodebookError(f"incident type {answer.code}: unknown OSCE category")
    lands = questions.get("land")
    if lands is None:
        raise CodebookError("the codebook needs the question 'land'")
    town = questions.get("town")
    if town is not None:
        for answer in town.answers:
            if answer.land is not None and answer.land not in lands.codes:
                raise CodebookError(f"town {answer.code}: unknown Land {answer.land}")


def load_codebook(path: Path = CODEBOOK_FILE) -> Codebook:
    with path.open(encoding="utf-8") as handle:
        return parse_codebook(yaml.safe_load(handle))


@cache
def current_codebook() -> Codebook:
    """The codebook this installation uses (read and validated once per process)."""
    return load_codebook()


def released_hashes(path: Path = HISTORY_FILE) -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {str(version): str(digest) for version, digest in data.items()}
