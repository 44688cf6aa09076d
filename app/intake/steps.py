"""The report form in steps, and the signed state that carries the answers from step to step.

The steps are the codebook's sections in groups: the required ones first, the optional ones
together in one step a person can skip, and last the images, the consent, the contact and the
sending. Images are chosen only on that last step: a browser keeps no chosen file from one page
to the next, and files cannot sensibly travel in a hidden field.

What a person answered on earlier steps travels only in the page, in a hidden field signed with
the app's secret: never in a cookie, the session or on disk before the report is sent. The
signature binds the state to this browser's CSRF secret (so it cannot be replayed into another
person's session), carries the form's one-time token (the form's identity, which makes sending
twice harmless), and expires with the CSRF token.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.codebook import Codebook, Question, Section

STATE_SALT = "meldeportal/report-steps"

# Section ids per step, in order. A section the codebook adds later and this plan does not name
# is never lost: with a required question it becomes a step of its own before the optional
# step, otherwise it joins the optional step.
PLAN: tuple[tuple[str, ...], ...] = (
    ("role", "when"),
    ("where",),
    ("what",),
    ("affected",),
    ("perceived", "perpetrators", "impact", "reported"),
    ("evidence", "consent", "contact"),
)
TITLES: dict[tuple[str, ...], Any] = {
    ("role", "when"): _l("Sie und der Zeitpunkt"),
    ("perceived", "perpetrators", "impact", "reported"): _l("Weitere Angaben (freiwillig)"),
    ("evidence", "consent", "contact"): _l("Bilder, Einwilligung und Absenden"),
}
# Rough minutes a person needs per question (an estimate shown to them, not a measurement).
MINUTES_BY_KIND = {"textarea": 2.0, "text": 0.5, "url": 0.5, "email": 0.5, "images": 1.0}
MINUTES_OTHERWISE = 0.3


@dataclass(frozen=True)
class Step:
    number: int  # from 1
    sections: tuple[Section, ...]
    title_text: Any  # a lazy text, or None for a step of one section (its title is used)
    final: bool

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for section in self.sections for q in section.questions)

    @property
    def optional(self) -> bool:
        """Nothing on it is required: a person may go on without it."""
        return not self.final and not any(q.required for q in self.questions)

    @property
    def minutes(self) -> float:
        return sum(MINUTES_BY_KIND.get(q.kind, MINUTES_OTHERWISE) for q in self.questions)

    def title(self, lang: str) -> str:
        if self.title_text is None:
            return self.sections[0].title(lang)
        return str(self.title_text)


_STEPS: dict[str, tuple[Step, ...]] = {}


def steps_of(codebook: Codebook) -> tuple[Step, ...]:
    """The steps of this codebook (every section in exactly one of them), built once."""
    if codebook.hash not in _STEPS:
        _STEPS[codebook.hash] = _plan(codebook)
    return _STEPS[codebook.hash]


def _plan(codebook: Codebook) -> tuple[Step, ...]:
    by_id = {section.id: section for section in codebook.sections}
    planned = [tuple(by_id[sid] for sid in group if sid in by_id) for group in PLAN]
    named = {sid for group in PLAN for sid in group}
    optional_at = len(PLAN) - 2
    for section in codebook.sections:
        if section.id in named:
            continue
        if any(q.required for q in section.questions):
            planned.insert(optional_at, (section,))
            optional_at += 1
        else:
            planned[optional_at] = (*planned[optional_at], section)
    groups = [group for group in planned if group]
    return tuple(
        Step(
            number=n,
            sections=group,
            title_text=TITLES.get(tuple(s.id for s in group))
            if len(group) > 1 or tuple(s.id for s in group) in TITLES
            else None,
            final=n == len(groups),
        )
        for n, group in enumerate(groups, start=1)
    )


def minutes_left(steps: tuple[Step, ...], number: int) -> int:
    """The estimate shown on step ``number``: minutes for it and the steps after it."""
    return max(1, math.ceil(sum(step.minutes for step in steps[number - 1 :])))


def step_of_question(steps: tuple[Step, ...], question_id: str) -> Step:
    for step in steps:
        if any(q.id == question_id for q in step.questions):
            return step
    raise KeyError(question_id)


# --- The signed state ------------------------------------------------------------------------


class StateProblem(Enum):
    MISSING = "missing"
    TAMPERED = "tampered"  # not signed by us
    EXPIRED = "expired"  # older than the form's CSRF token may be
    FOREIGN = "foreign"  # another browser session's or another form's


class StateRefused(ValueError):
    def __init__(self, problem: StateProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class FormState:
    step: int  # the step the page showed
    reached: int  # the furthest step shown so far
    answers: dict[str, Any]  # question id -> the value as the form gave it
    form_token: str  # the form's signed one-time token (app/intake/tokens.py): the form's identity


def binding(csrf_secret: str) -> str:
    """What ties a state to one browser session: a digest of its CSRF secret, which is never in
    a page. (The form's own token travels inside the signed state.)"""
    return hashlib.sha256(f"{STATE_SALT}\x00{csrf_secret}".encode()).hexdigest()[:32]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=STATE_SALT)


def clean_answers(codebook: Codebook, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Only answers of the codebook's questions, of a form's types, and none that are empty."""
    kept: dict[str, Any] = {}
    for question_id, value in answers.items():
        question = codebook.questions.get(question_id)
        if question is None or question.kind == "images":
            continue
        if isinstance(value, list):
            value = [item for item in value if isinstance(item, str) and item]
        elif not isinstance(value, str | bool):
            continue
        if value in ("", [], False):
            continue
        kept[question_id] = value
    return kept


def sign_state(secret_key: str, state: FormState, bound_to: str) -> str:
    return _serializer(secret_key).dumps(
        {
            "s": state.step,
            "r": state.reached,
            "a": state.answers,
            "t": state.form_token,
            "b": bound_to,
        }  # fmt: skip
    )


def read_state(
    secret_key: str,
    signed: str | None,
    *,
    codebook: Codebook,
    bound_to: str,
    max_age: int | None,
) -> FormState:
    """The state a page carried, if it is ours, current and this session's and form's.

    Raises:
        StateRefused: naming what is wrong with it.
    """
    if not signed:
        raise StateRefused(StateProblem.MISSING)
    try:
        data = _serializer(secret_key).loads(signed, max_age=max_age)
    except SignatureExpired:
        raise StateRefused(StateProblem.EXPIRED) from None
    except (BadSignature, ValueError):
        raise StateRefused(StateProblem.TAMPERED) from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), dict):
        raise StateRefused(StateProblem.TAMPERED)
    if data.get("b") != bound_to:
        raise StateRefused(StateProblem.FOREIGN)
    count = len(steps_of(codebook))
    step, reached = data.get("s"), data.get("r")
    if not (isinstance(step, int) and isinstance(reached, int) and 1 <= step <= reached <= count):
        raise StateRefused(StateProblem.TAMPERED)
    if not isinstance(data.get("t"), str):
        raise StateRefused(StateProblem.TAMPERED)
    return FormState(step, reached, clean_answers(codebook, data["a"]), data["t"])
