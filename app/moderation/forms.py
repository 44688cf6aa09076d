"""Staff forms and the ids typed into them; the rules live in the services.

The forms carry what was sent (so nothing typed is lost when a page answers with a refusal) and
check only its shape: an offered value, a date, an id that names a row. Whether a step is allowed
is the services' decision, and their refusals (``CaseRefused``, ``AccountError``) carry their
own words. Field names are what the pages post.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # newer than the stubs
from wtforms.validators import DataRequired, Length, ValidationError

from app.codebook import Codebook
from app.dates import EARLIEST_DATE, LATEST_DATE, format_day, iso_date
from app.extensions import db
from app.models import Incident, User
from app.models.user import ROLES
from app.moderation.cases import CODED_QUESTIONS, OPEN_STATES, AssigneeNotAllowed, QueueFilters

REQUIRED = _l("Bitte ausfüllen.")
TOO_LONG = _l("Zu lang.")
# Ids are 32-bit integers in the schema; a larger number names nothing (and SQLite cannot even
# bind one beyond 64 bits), so it is answered like any unknown id.
MAX_ID = 2**31 - 1
FILTER_ERROR = _l("Der Filter „%(name)s“ ist ungültig. Bitte wählen Sie die Werte aus der Liste.")
DATE_FILTER_ERROR = _l(
    "Der Filter „%(name)s“ ist ungültig: bitte ein Datum von %(first)s bis %(last)s in der Form "
    "JJJJ-MM-TT."
)
UNKNOWN_ORIGINAL = _l("Einen Fall mit dieser Nummer gibt es nicht.")
PASSWORDS_DIFFER = _l("Die beiden Passwörter sind verschieden.")
CONFIRM_DELETION = _l("Bitte bestätigen Sie, dass die persönlichen Daten gelöscht werden sollen.")


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254, message=TOO_LONG)]
    )
    password = PasswordField(
        _l("Passwort"), validators=[DataRequired(REQUIRED), Length(max=128, message=TOO_LONG)]
    )
    code = StringField(
        _l("Code aus der Authenticator-App oder Wiederherstellungscode"),
        validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)],
    )


def form_id(value: str) -> int | None:
    """A row id typed or chosen in a form; None for anything that cannot be one."""
    value = value.strip()
    if not value.isdigit() or len(value) > 10 or not 1 <= int(value) <= MAX_ID:
        return None
    return int(value)


Row = TypeVar("Row", User, Incident)


def typed_record(model: type[Row], typed: str) -> tuple[bool, Row | None]:
    """The row whose id was typed into a form: (True, None) for an empty field (no choice),
    (False, None) for an id that is not a row, else (True, row)."""
    if not typed:
        return True, None
    number = form_id(typed)
    row = db.session.get(model, number) if number else None
    return row is not None, row


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- The queue filter ------------------------------------------------------------------------


def _offered(form: FlaskForm, field: Field) -> None:
    """A filter takes only the values its list offers; the message names the filter."""
    value = _text(field.data)
    offered = {choice.value for choice in getattr(field, "choices", None) or ()}
    if value and value not in offered:
        raise ValidationError(str(FILTER_ERROR) % {"name": field.label.text})


def _day(form: FlaskForm, field: Field) -> None:
    if _text(field.data) and iso_date(field.data) is None:
        raise ValidationError(str(DATE_FILTER_ERROR) % {
            "name": field.label.text,
            "first": format_day(EARLIEST_DATE), "last": format_day(LATEST_DATE),
        })  # fmt: skip


def _row_id(form: FlaskForm, field: Field) -> None:
    if _text(field.data) and form_id(field.data) is None:
        raise ValidationError(str(FILTER_ERROR) % {"name": field.label.text})


class QueueFilterForm(FlaskForm):
    """The queue's filters from the query string (GET: no CSRF token, nothing changes).

    Values stay strings, as typed, so a refused filter is shown again as it was; ``filters``
    turns a valid form into the service's ``QueueFilters``.
    """

    class Meta:
        csrf = False

    # Choices are offered in the form; the views' own check gives our messages, not WTForms'.
    state = SelectField(_l("Stand"), validators=[_offered], validate_choice=False)
    type = SelectField(_l("Schwerste Vorfallsart"), validators=[_offered], validate_choice=False)
    land = SelectField(_l("Bundesland"), validators=[_offered], validate_choice=False)
    received_from = StringField(_l("Eingegangen ab"), validators=[_day], name="from")
    received_to = StringField(_l("Eingegangen bis"), validators=[_day], name="to")
    assigned = SelectField(_l("Zugewiesen an"), validators=[_offered], validate_choice=False)
    messages = SelectField(
        _l("Nur Fälle mit Nachrichten"), validators=[_offered], validate_choice=False
    )
    after = StringField("after", validators=[_row_id])

    def __init__(
        self,
        formdata: Any,
        *,
        codebook: Codebook,
        states: Iterable[str],
        workers: dict[int, str],
    ) -> None:
        super().__init__(formdata=formdata)
        self.state.choices = _choices(["open", *states, "all"])
        self.type.choices = _code_choices(codebook, "incident_types")
        self.land.choices = _code_choices(codebook, "land")
        self.assigned.choices = _choices(["", "me", "none", *map(str, workers)])
        self.messages.choices = _choices(["", "1"])

    def filters(self, me: User) -> tuple[QueueFilters, int | None]:
        """The service's filters and the ``after`` id, from a form that validated."""
        state = _text(self.state.data) or "open"
        states: tuple[str, ...] = (
            OPEN_STATES if state == "open" else () if state == "all" else (state,)
        )
        assigned = _text(self.assigned.data)
        filters = QueueFilters(
            states=states,
            land=_text(self.land.data) or None,
            incident_type=_text(self.type.data) or None,
            received_from=iso_date(_text(self.received_from.data)) if self.received_from.data
            else None,
            received_to=iso_date(_text(self.received_to.data)) if self.received_to.data else None,
            assigned_to=me.id if assigned == "me" else form_id(assigned),
            unassigned=assigned == "none",
            with_messages=self.messages.data == "1",
        )  # fmt: skip
        return filters, form_id(_text(self.after.data))


def _choices(values: Iterable[str]) -> list[SelectChoice]:
    """The values a filter offers; the template writes the options with their labels."""
    return [SelectChoice(value, value) for value in values]


def _code_choices(codebook: Codebook, question_id: str) -> list[SelectChoice]:
    return _choices(["", *codebook.question(question_id).codes])


def first_error(form: FlaskForm) -> str | None:
    """The first message of a form that did not validate, for the page's error summary."""
    for messages in form.errors.values():
        for message in messages:
            return str(message)
    return None


# --- Actions on one case ---------------------------------------------------------------------


class StateForm(FlaskForm):
    """The wanted state; the transition table decides, so any text goes to the service."""

    to = StringField()


class AssignForm(FlaskForm):
    """A case worker's id, or empty for nobody; ``assignee_row`` is the account chosen."""

    assignee = StringField()
    assignee_row: User | None = None

    def validate_assignee(self, field: Field) -> None:
        found, self.assignee_row = typed_record(User, _text(field.data))
        if not found:
            raise ValidationError(str(AssigneeNotAllowed.text))


class NoteForm(FlaskForm):
    """The text rules (empty, too long) are the mailbox's, shared with the status page."""

    text = TextAreaField()


class MessageForm(FlaskForm):
    text = TextAreaField()


class DuplicateForm(FlaskForm):
    """The original's case number, "#" allowed; empty removes the link."""

    original = StringField(filters=[lambda value: value.strip().lstrip("#") if value else ""])
    original_case: Incident | None = None

    def validate_original(self, field: Field) -> None:
        found, self.original_case = typed_record(Incident, _text(field.data))
        if not found:
            raise ValidationError(str(UNKNOWN_ORIGINAL))


class DeletionForm(FlaskForm):
    confirm = BooleanField(validators=[DataRequired(CONFIRM_DELETION)])


class CodingFormBase(FlaskForm):
    """One field per coded question, added per codebook and language by ``coding_form_class``.

    Codes are not checked here: ``code_case`` checks them against the codebook, with its own
    message naming the question.
    """

    codebook: Codebook
    lang: str

    def answers(self) -> dict[str, list[str]]:
        return {
            question: [code for code in getattr(self, question).data or () if code]
            for question in CODED_QUESTIONS
        }


_CODING_CLASSES: dict[tuple[str, str], type[CodingFormBase]] = {}


def coding_form_class(codebook: Codebook, lang: str) -> type[CodingFormBase]:
    """The coding form for one codebook and language, built once."""
    key = (codebook.hash, lang)
    if key not in _CODING_CLASSES:
        attributes: dict[str, Any] = {"codebook": codebook, "lang": lang}
        for question_id in CODED_QUESTIONS:
            question = codebook.question(question_id)
            choices = [SelectChoice(answer.code, answer.label(lang)) for answer in question.answers]
            attributes[question_id] = SelectMultipleField(
                question.label(lang), choices=choices, validate_choice=False
            )
        _CODING_CLASSES[key] = type(f"CodingForm_{lang}", (CodingFormBase,), attributes)
    return _CODING_CLASSES[key]


# --- Admin pages and own settings ------------------------------------------------------------


class InvitationForm(FlaskForm):
    """Whom to invite; the role is checked by ``invite``, whose refusal names it."""

    email = EmailField(
        _l("E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254, message=TOO_LONG)]
    )
    role = SelectField(_l("Rolle"), choices=_choices(ROLES), validate_choice=False)


class PasswordChoiceForm(FlaskForm):
    """The invited person's password, twice; its strength is the accounts service's rule."""

    password = PasswordField(_l("Passwort"))
    password_again = PasswordField(_l("Passwort wiederholen"))

    def validate_password_again(self, field: Field) -> None:
        if field.data != self.password.data:
            raise ValidationError(str(PASSWORDS_DIFFER))


class EnrolmentConfirmForm(FlaskForm):
    """One current code from the new authenticator entry; whether it fits is the service's."""

    code = StringField(
        _l("Code aus der Authenticator-App"),
        validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)],
    )


AUDIT_ID_ERROR = _l("Der Filter „%(name)s“ ist ungültig: bitte eine Nummer ab 1.")


def _audit_id(form: FlaskForm, field: Field) -> None:
    if _text(field.data).strip() and form_id(field.data) is None:
        raise ValidationError(str(AUDIT_ID_ERROR) % {"name": field.label.text})


class AuditFilterForm(FlaskForm):
    """The audit log's filters from the query string (GET: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    tag = StringField(_l("Ereignis beginnt mit"), filters=[lambda value: (value or "")[:64]])
    actor = StringField(
        _l("Konto-Nummer"),
        validators=[_audit_id],
        filters=[lambda value: (value or "").strip()[:32]],
    )
    target_type = StringField(filters=[lambda value: (value or "")[:32]])
    after = StringField("after", validators=[_audit_id])

    @property
    def actor_id(self) -> int | None:
        return form_id(_text(self.actor.data))

    @property
    def after_id(self) -> int | None:
        return form_id(_text(self.after.data))


class AccountForm(FlaskForm):
    """Own settings; the languages offered are the configured ones."""

    language = SelectField(_l("Sprache der Oberfläche"))
    notify = BooleanField()

    def __init__(self, *, languages: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.language.choices = _choices(languages)
