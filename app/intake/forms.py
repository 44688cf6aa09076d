"""The report form, generated from the codebook with Flask-WTF.

WTForms carries the values (so nothing typed is lost on an error) and the CSRF token; the rules
live in ``answers.parse_answers``, shared with the partner API. Choice fields therefore skip
WTForms' own choice check, whose messages would not be ours.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # newer than the stubs
from wtforms.widgets import CheckboxInput, ListWidget

from app.codebook import Codebook, Question
from app.codebook.answers import Answers, InvalidAnswers, parse_answers

# A field people never see; bots fill it. Its name looks worth filling.
HONEYPOT_FIELD = "website"


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _field_for(question: Question, lang: str) -> Field:
    label = question.label(lang)
    choices = [SelectChoice(answer.code, answer.label(lang)) for answer in question.answers]
    kind = question.kind
    if kind == "single":
        return RadioField(label, choices=choices, validate_choice=False)
    if kind == "select":
        return SelectField(
            label, choices=[SelectChoice("", _l("Bitte wählen")), *choices], validate_choice=False
        )
    if kind == "multi":
        return CheckboxesField(label, choices=choices, validate_choice=False)
    if kind in {"consent", "flag"}:
        return BooleanField(label)
    if kind == "images":
        files: Field = MultipleFileField(label)
        return files
    if kind == "textarea":
        return TextAreaField(label)
    return StringField(label)


class ReportFormBase(FlaskForm):
    """Fields are added per codebook and language by ``report_form_class``."""

    website = StringField(_l("Webseite (bitte leer lassen)"))

    codebook: Codebook
    lang: str
    answers: Answers | None = None

    def raw_answers(self) -> dict[str, Any]:
        return {
            question.id: getattr(self, question.id).data
            for question in self.codebook.questions.values()
            if question.kind != "images"
        }

    def validate_answers(self, today: dt.date) -> bool:
        """Apply the codebook's rules; errors land on the fields they concern."""
        try:
            self.answers = parse_answers(self.codebook, self.raw_answers(), today)
        except InvalidAnswers as invalid:
            for question_id, message in invalid.errors.items():
                field = getattr(self, question_id)
                field.errors = [*field.errors, message]
            return False
        return True


_FORM_CLASSES: dict[tuple[str, str], type[ReportFormBase]] = {}


def report_form_class(codebook: Codebook, lang: str) -> type[ReportFormBase]:
    """The form class for one codebook and language, built once."""
    key = (codebook.hash, lang)
    if key not in _FORM_CLASSES:
        attributes: dict[str, Any] = {"codebook": codebook, "lang": lang}
        for question in codebook.questions.values():
            attributes[question.id] = _field_for(question, lang)
        _FORM_CLASSES[key] = type(f"ReportForm_{lang}", (ReportFormBase,), attributes)
    return _FORM_CLASSES[key]
