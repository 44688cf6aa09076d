"""Localised error pages: no stack trace, no detail that helps an attacker."""

from __future__ import annotations

from flask import Flask, g, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from app.i18n import select_locale

ERROR_TEXTS = {
    400: (
        _l("Die Anfrage ist fehlerhaft"),
        _l(
            "Ihr Browser hat etwas geschickt, das wir nicht verstehen. Bitte laden Sie die Seite "
            "neu und versuchen Sie es noch einmal."
        ),
    ),
    403: (
        _l("Kein Zugriff"),
        _l("Diese Seite ist nicht für Sie freigegeben."),
    ),
    404: (
        _l("Seite nicht gefunden"),
        _l("Diese Adresse gibt es hier nicht. Vielleicht hilft Ihnen die Startseite weiter."),
    ),
    405: (
        _l("Aktion nicht möglich"),
        _l("Diese Seite kann so nicht aufgerufen werden. Bitte gehen Sie über die Startseite."),
    ),
    413: (
        _l("Die Daten sind zu groß"),
        _l(
            "Was Sie geschickt haben, ist größer als erlaubt. Bitte verkleinern Sie Bilder oder "
            "schicken Sie weniger Dateien auf einmal."
        ),
    ),
    415: (
        _l("Die Anfrage ist fehlerhaft"),
        _l(
            "Was Ihr Browser geschickt hat, ist kein Formular, das wir lesen können. Bitte öffnen "
            "Sie die Seite neu und füllen Sie das Formular dort aus."
        ),
    ),
    429: (
        _l("Zu viele Anfragen"),
        _l(
            "Gerade kamen zu viele Anfragen. Bitte warten Sie etwas und versuchen Sie es dann noch "
            "einmal."
        ),
    ),
    500: (
        _l("Ein Fehler ist aufgetreten"),
        _l(
            "Bei uns ist etwas schiefgegangen. Es wurde nichts gespeichert. Bitte versuchen Sie "
            "es später noch einmal."
        ),
    ),
    503: (
        _l("Gerade ausgelastet"),
        _l(
            "Der Dienst ist gerade sehr beschäftigt. Bitte versuchen Sie es in einer Minute noch "
            "einmal."
        ),
    ),
}


def render_error(error: HTTPException, message: str | None = None) -> tuple[str, int]:
    """The localised error page for ``error``; ``message`` replaces its generic text."""
    code = error.code or 500
    # A status without its own text gets the generic one of its class, but keeps its code.
    title, generic = ERROR_TEXTS.get(code) or ERROR_TEXTS[500 if code >= 500 else 400]
    g.setdefault("lang", select_locale())
    return render_template(
        "errors/error.html", code=code, title=title, message=message or generic
    ), code


def handle_http_error(error: HTTPException) -> tuple[str, int]:
    return render_error(error)


def handle_unexpected_error(error: InternalServerError) -> tuple[str, int]:
    # Whatever failed, nothing half-done may be committed by a later use of the session.
    db.session.rollback()
    return render_error(error)


def init_errorhandlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
