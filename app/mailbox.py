"""A report's mailbox: the messages between the reporter and the staff, and the rules they obey.

Both sides write to it: the reporter on the status page (``app.intake``), the staff on the case
page (``app.moderation.cases``, whose internal notes follow the same text rules). Every message
is sealed under the report's mailbox key, which the receipt code opens as well as the
organisation keys, so the reporter reads what staff wrote without any account. Nothing here
commits; the request does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.crypto.envelope import ReportKey
from app.crypto.reports import open_message, seal_message
from app.extensions import db
from app.models import Message, Report
from app.text import is_blank, normalise_text

# Who wrote a message (``Message.author``).
REPORTER, STAFF = "reporter", "staff"
# The longest message or note, counted on the normalised text.
MAX_TEXT = 5000

# Each side keeps its own words: the status page asks the reporter for a "Nachricht"; the case
# page, where staff also write notes, speaks of a "Text". The rule behind them is the same.
REFUSALS = {
    REPORTER: {
        "empty": _l("Bitte schreiben Sie eine Nachricht."),
        "too_long": _l("Die Nachricht ist zu lang (höchstens 5000 Zeichen)."),
    },
    STAFF: {
        "empty": _l("Bitte schreiben Sie einen Text."),
        "too_long": _l("Der Text ist zu lang (höchstens 5000 Zeichen)."),
    },
}


class TextRefused(ValueError):
    """A message or note with nothing visible in it (``reason`` "empty") or a too long one
    ("too_long"). ``author`` (REPORTER or STAFF) chooses the words of ``message``."""

    def __init__(self, reason: str, *, author: str) -> None:
        super().__init__(f"the text is refused ({reason})")
        self.reason, self.author = reason, author

    @property
    def message(self) -> str:
        """The refusal in the current request's language, in the words of the writer's page."""
        return str(REFUSALS[self.author][self.reason])


@dataclass(frozen=True)
class ShownMessage:
    """One message, opened, as the status page and the case page list it."""

    number: int
    author: str
    kind: str
    sent_on: dt.date
    text: str


def checked_text(text: str, *, author: str) -> str:
    """The text as it is stored (``app.text``): nothing is refused for its characters.

    Raises:
        TextRefused: when nothing visible is left, or more than ``MAX_TEXT`` characters.
    """
    text = normalise_text(text)
    if is_blank(text):
        raise TextRefused("empty", author=author)
    if len(text) > MAX_TEXT:
        raise TextRefused("too_long", author=author)
    return text


def _next_number(report: Report) -> int:
    highest = db.session.scalar(
        select(func.max(Message.number)).where(Message.report_id == report.id)
    )
    return (highest or 0) + 1


def add_message(
    report: Report, mailbox_key: ReportKey, text: str, *, author: str, kind: str, today: dt.date
) -> Message:
    """Seal a message into the report's mailbox, readable by staff and by the reporter.

    ``text`` is checked here (``checked_text``), so no caller can store one the rules refuse.
    ``kind`` is "message", or "addition" for more information about the incident.

    Raises:
        TextRefused: see ``checked_text``; then nothing is stored.
    """
    text = checked_text(text, author=author)
    number = _next_number(report)
    message = Message(
        report_id=report.id,
        number=number,
        author=author,
        kind=kind,
        sealed_body=seal_message(mailbox_key, report, number, text),
        sent_on=today,
    )
    db.session.add(message)
    db.session.flush()
    return message


def shown_messages(report: Report, mailbox_key: ReportKey) -> list[ShownMessage]:
    """Every message of the report, opened, oldest first.

    Raises:
        SealError: when ``mailbox_key`` does not open them.
    """
    return [
        ShownMessage(
            message.number,
            message.author,
            message.kind,
            message.sent_on,
            open_message(mailbox_key, report, message.number, message.sealed_body),
        )
        for message in report.messages
    ]
