"""Staff forms and the ids typed into them; the rules live in the services."""

from __future__ import annotations

from typing import TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.models import Incident, User

REQUIRED = _l("Bitte ausfüllen.")
TOO_LONG = _l("Zu lang.")
# Ids are 32-bit integers in the schema; a larger number names nothing (and SQLite cannot even
# bind one beyond 64 bits), so it is answered like any unknown id.
MAX_ID = 2**31 - 1


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
