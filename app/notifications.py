"""Content-free e-mail to staff who asked for it: "a new report arrived", "the reporter answered".

A view queues a kind on the request (``queue_notification``); once the request's transaction is
committed, a hook sends one mail to each active admin or moderator who turned notifications on
(one mail per person, so no one sees the others' addresses). The mail says only that something
arrived, in each configured language: no report id, no content, no time except its own Date header,
at most a link to the moderation queue. A mailbox or mail server read by others learns nothing
about any report.

Sending never fails a request: every error is caught and logged on ``meldeportal.mail`` with the
kind and counts only. Nothing is logged when all went well — a log line per report would date it.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from flask import Flask, Response, current_app, g
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.user import ADMIN, MODERATOR

log = logging.getLogger("meldeportal.mail")

NEW_REPORT, REPORTER_ANSWERED = "new_report", "reporter_answered"
OUTBOX = "notification_outbox"  # the attribute on flask.g


@dataclass(frozen=True)
class Notice:
    # Lazy texts (``_l``), rendered in each language by ``compose``.
    subject: Any  # after "Meldeportal: ", one per language
    text: Any
    action: Any  # followed by the queue link, or a full stop


# Headers are not folded below the limit of a line (RFC 5322: 998). Python's folding at 78
# splits a non-ASCII run into one encoded word per word, and a reader drops the space between
# adjacent encoded words (RFC 2047): the Arabic subject "بلاغ جديد" arrived as "بلاغجديد".
HEADER_POLICY = policy.default.clone(max_line_length=998)
NOTICES = {
    NEW_REPORT: Notice(
        _l("neue Meldung"),
        _l("Im Meldeportal ist eine neue Meldung eingegangen."),
        _l("Bitte melden Sie sich an, um sie zu lesen"),
    ),
    REPORTER_ANSWERED: Notice(
        _l("Antwort"),
        _l("Eine meldende Person hat im Meldeportal geantwortet."),
        _l("Bitte melden Sie sich an, um die Antwort zu lesen"),
    ),
}

FOOTER = _l(
    "Diese Nachricht enthält absichtlich keine Einzelheiten. Sie erhalten sie, weil Sie in "
    "Ihrem Konto Benachrichtigungen eingeschaltet haben."
)


def queue_notification(kind: str) -> None:
    """Send ``kind`` to the opted-in staff once this request has committed (once per kind).

    Raises:
        ValueError: for an unknown kind.
    """
    if kind not in NOTICES:
        raise ValueError(f"unknown notification kind {kind!r}")
    outbox: list[str] = g.setdefault(OUTBOX, [])
    if kind not in outbox:
        outbox.append(kind)


def init_notifications(app: Flask) -> None:
    """Register the sending hook.

    Flask runs ``after_request`` functions in reverse order of registration, so this must be
    called *before* ``app.database.init_request_transactions``: the mail then goes out only
    after the request's commit, and only when the response was a success (< 400). A failed
    commit raises before this hook runs, and the queued kinds are dropped with the request.
    """
    app.after_request(send_queued_notifications)
    app.teardown_request(_drop_outbox)


def _drop_outbox(_error: BaseException | None) -> None:
    g.pop(OUTBOX, None)


def send_queued_notifications(response: Response) -> Response:
    kinds: list[str] = g.pop(OUTBOX, None) or []
    config = current_app.config
    if not kinds or response.status_code >= 400 or not config.get("MAIL_SERVER"):
        return response
    try:
        recipients = notification_recipients()
    except Exception as error:  # never fail a request over a notice
        log.warning("Notification not sent: recipients unreadable (%s)", type(error).__name__)
        return response
    if recipients:
        for kind in kinds:
            deliver(kind, recipients, config)
    return response


def notification_recipients() -> list[str]:
    """The addresses of active admins and moderators who turned notifications on, read now."""
    return list(
        db.session.scalars(
            select(User.email)
            .where(
                User.active.is_(True),
                User.notify_new_reports.is_(True),
                User.role.in_((ADMIN, MODERATOR)),
            )
            .order_by(User.id)
        )
    )


def _queue_link(config: dict[str, Any]) -> str | None:
    base = config.get("PUBLIC_BASE_URL")
    return f"{str(base).rstrip('/')}/moderation/" if base else None


def compose(kind: str, recipient: str, config: dict[str, Any]) -> EmailMessage:
    """The fixed mail for ``kind``: the same words for every report, whatever it says.

    It is written in every configured language, one after the other: the notice goes to several
    people, and a mail server learns nothing from which language a mail is in.
    """
    notice = NOTICES[kind]
    link = _queue_link(config)
    ending = f": {link}" if link else "."
    subjects, paragraphs, footers = [], [], []
    for language in config["LANGUAGES"]:
        with force_locale(language.code):
            subjects.append(str(notice.subject))
            paragraphs.append(f"{notice.text}\n{notice.action}{ending}\n\n")
            footers.append(str(FOOTER))
    body = "".join(paragraphs) + "-- \n" + "\n".join(footers) + "\n"
    sender = str(config["MAIL_FROM"])
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["Subject"] = "Meldeportal: " + " / ".join(subjects)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(usegmt=True)
    # Random, unlike email.utils.make_msgid, which puts the time and the host name in it.
    message["Message-ID"] = f"<{secrets.token_hex(16)}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(body, cte="quoted-printable")  # lines of 76 at most (RFC 2045)
    message.policy = HEADER_POLICY  # only the headers are written out with it
    return message


def _reason(error: BaseException) -> str:
    # The SMTP reply text can name an address: log only the class and the reply code.
    code = getattr(error, "smtp_code", None)
    return f"{type(error).__name__} {code}" if code else type(error).__name__


def deliver(kind: str, recipients: list[str], config: dict[str, Any]) -> int:
    """Send ``kind`` to each recipient over one connection; returns how many were accepted.

    Never raises: failures are logged with the kind and counts, never an address.
    """
    delivered, refused = 0, None
    try:
        with smtplib.SMTP(
            str(config["MAIL_SERVER"]),
            int(config["MAIL_PORT"]),
            timeout=float(config["MAIL_TIMEOUT"]),
        ) as smtp:
            if config.get("MAIL_USE_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(str(config["MAIL_USERNAME"]), str(config.get("MAIL_PASSWORD") or ""))
            for recipient in recipients:
                try:
                    smtp.send_message(compose(kind, recipient, config))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
                    refused = error  # this one address; the others may still go through
                else:
                    delivered += 1
    except Exception as error:  # never fail a request over a notice
        log.warning(
            "Notification %s not sent: %s (%d of %d recipients reached)",
            kind,
            _reason(error),
            delivered,
            len(recipients),
        )
        return delivered
    if refused is not None:
        log.warning(
            "Notification %s refused for %d of %d recipients: %s",
            kind,
            len(recipients) - delivered,
            len(recipients),
            _reason(refused),
        )
    return delivered
