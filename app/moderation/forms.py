"""Staff forms; the rules live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

REQUIRED = _l("Bitte ausfüllen.")
TOO_LONG = _l("Zu lang.")


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
