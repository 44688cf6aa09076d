"""The words the staff pages show for internal codes: roles, case states, account states, audit
events and their targets, API token scopes. One map per kind, in German with English
translations through the catalog; templates use them through the ``staff_label`` filter
(``{{ user.role|staff_label("role") }}``), views and services through ``label_of``.

The codes themselves stay in the database, the URLs and the option values; a person reads only
these words. A test renders every staff page and fails on a code shown as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from app.api.tokens import STATISTICS, SUBMIT
from app.audit import AuditTag
from app.models.incident import (
    CLOSED,
    IN_REVIEW,
    NOT_VERIFIABLE,
    OUT_OF_SCOPE,
    RECEIVED,
    VERIFIED,
)
from app.models.user import ADMIN, MODERATOR, RESEARCHER
from app.moderation.accounts import ACTIVE, WAITING_FOR_CONFIRMATION, WAITING_FOR_KEYS

# The admin's button that grants invited key holders their keys; the moderators' message
# quotes it with the same words, so both always say the same.
GRANT_KEYS_BUTTON = _l("Schlüssel an neue Konten freigeben")


ROLES: Mapping[str, Any] = {
    ADMIN: _l("Admin"),
    MODERATOR: _l("Moderation"),
    RESEARCHER: _l("Forschung"),
}
CASE_STATES: Mapping[str, Any] = {
    RECEIVED: _l("Eingegangen"),
    IN_REVIEW: _l("In Prüfung"),
    VERIFIED: _l("Bestätigt"),
    NOT_VERIFIABLE: _l("Nicht überprüfbar"),
    OUT_OF_SCOPE: _l("Nicht zuständig"),
    CLOSED: _l("Abgeschlossen"),
}
ACCOUNT_STATES: Mapping[str, Any] = {
    ACTIVE: _l("aktiv"),
    WAITING_FOR_KEYS: _l("wartet auf Schlüssel"),
    WAITING_FOR_CONFIRMATION: _l("wartet auf Bestätigung der Authenticator-App"),
}
SCOPES: Mapping[str, Any] = {
    SUBMIT: _l("Meldungen senden"),
    STATISTICS: _l("Statistik lesen"),
}
AUDIT_EVENTS: Mapping[str, Any] = {
    AuditTag.ACCOUNT_CONFIRM_SECOND_FACTOR: _l("Authenticator-App bestätigt"),
    AuditTag.ACCOUNT_CREATE: _l("Konto angelegt"),
    AuditTag.ACCOUNT_REMOVE: _l("Konto entfernt"),
    AuditTag.ACCOUNT_RESET: _l("Passwort und zweiter Faktor zurückgesetzt"),
    AuditTag.API_TOKEN_CREATE: _l("API-Schlüssel erstellt"),
    AuditTag.API_TOKEN_REVOKE: _l("API-Schlüssel widerrufen"),
    AuditTag.CASE_ADD_NOTE: _l("Notiz zu einem Fall"),
    AuditTag.CASE_ASSIGN: _l("Fall zugewiesen"),
    AuditTag.CASE_CHANGE_STATE: _l("Stand eines Falls geändert"),
    AuditTag.CASE_CODE: _l("Fall kodiert"),
    AuditTag.CASE_HONOUR_DELETION: _l("Löschwunsch umgesetzt"),
    AuditTag.CASE_LINK_DUPLICATE: _l("Duplikat verknüpft"),
    AuditTag.CASE_OPEN: _l("Versiegelte Angaben geöffnet"),
    AuditTag.CASE_SEND_MESSAGE: _l("Nachricht an die meldende Person"),
    AuditTag.DEMO_GENERATE: _l("Beispieldaten erzeugt"),
    AuditTag.INVITATION_CREATE: _l("Einladung erstellt"),
    AuditTag.KEY_SLOT_ADD: _l("Schlüsselplatz angelegt"),
    AuditTag.KEY_SLOT_CHANGE_PASSWORD: _l("Passwort eines Schlüsselplatzes geändert"),
    AuditTag.KEY_SLOT_GRANT: _l("Schlüssel freigegeben"),
    AuditTag.KEY_SLOT_RECOVER: _l("Schlüsselplatz mit dem Wiederherstellungsschlüssel erneuert"),
    AuditTag.KEY_SLOT_REMOVE: _l("Schlüsselplatz entfernt"),
    AuditTag.LOGIN_FAILURE: _l("Anmeldung fehlgeschlagen"),
    AuditTag.LOGIN_SUCCESS: _l("Anmeldung"),
    AuditTag.ORG_KEY_INIT: _l("Organisationsschlüssel erstellt"),
    AuditTag.ORG_KEY_ROTATE: _l("Schlüsselwechsel abgeschlossen"),
    AuditTag.ORG_KEY_START_ROTATION: _l("Schlüsselwechsel begonnen"),
    AuditTag.RECOVERY_CODE_USE: _l("Wiederherstellungscode benutzt"),
    AuditTag.REPORT_HONOUR_DELETION: _l("Löschwunsch einer Meldung umgesetzt"),
    AuditTag.REPORT_PURGE: _l("Persönliche Daten gelöscht"),
    AuditTag.SESSIONS_END_EVERYWHERE: _l("Überall abgemeldet"),
    AuditTag.STATISTICS_EXPORT: _l("Statistiktabelle abgerufen"),
}
# The part of a tag before the colon: what the audit page filters by.
AUDIT_SUBJECTS: Mapping[str, Any] = {
    "account": _l("Konten"),
    "api_token": _l("API-Schlüssel"),
    "case": _l("Fälle"),
    "demo": _l("Beispieldaten"),
    "invitation": _l("Einladungen"),
    "key_slot": _l("Schlüsselplätze"),
    "login": _l("Anmeldungen"),
    "org_key": _l("Organisationsschlüssel"),
    "recovery_code": _l("Wiederherstellungscodes"),
    "report": _l("Meldungen"),
    "sessions": _l("Sitzungen"),
    "statistics": _l("Statistik"),
}
AUDIT_TARGETS: Mapping[str, Any] = {
    "api_token": _l("API-Schlüssel"),
    "incident": _l("Fall"),
    "invitation": _l("Einladung"),
    "key_slot": _l("Schlüsselplatz"),
    "org_key": _l("Organisationsschlüssel"),
    "report": _l("Meldung"),
    "user": _l("Konto"),
}

KINDS: Mapping[str, Mapping[str, Any]] = {
    "role": ROLES,
    "case_state": CASE_STATES,
    "account_state": ACCOUNT_STATES,
    "scope": SCOPES,
    "audit_event": AUDIT_EVENTS,
    "audit_subject": AUDIT_SUBJECTS,
    "audit_target": AUDIT_TARGETS,
}


def label_of(value: object, kind: str) -> str:
    """The words for ``value`` of this kind in the request's language.

    A value without words (a code from an older version, or a tampered one) is shown as it is,
    since there is nothing better to say; the test of the staff pages catches known ones.
    """
    words = KINDS[kind].get(str(value))
    return str(words) if words is not None else str(value)


def event_details(details: Mapping[str, Any]) -> str:
    """The parts of an audit event's details a person reads, in their language: a role, the
    states of a case's move, an export's format. The stored summary stays English and untranslated
    (for the record and the log); ids and fingerprints are in their own columns or the log."""
    parts = []
    if isinstance(details.get("role"), str):
        parts.append(str(_l("Rolle: %(role)s", role=label_of(details["role"], "role"))))
    if isinstance(details.get("from"), str) and isinstance(details.get("to"), str):
        parts.append(str(_l("von „%(before)s“ nach „%(after)s“",
                            before=label_of(details["from"], "case_state"),
                            after=label_of(details["to"], "case_state"))))  # fmt: skip
    if isinstance(details.get("format"), str):
        parts.append(str(_l("Format: %(format)s", format=details["format"].upper())))
    return "; ".join(parts)
