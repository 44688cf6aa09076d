"""Content-free mail to staff who opted in, through a real SMTP server, on SQLite and PostgreSQL.

The server is aiosmtpd on a free local port (``tests/smtp.py``). Each test has five staff
accounts; only the active admin and moderator who turned notifications on may get mail.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from flask import Flask, g
from sqlalchemy import create_engine, func, select, text

import app.notifications
from app.api.tokens import create_token
from app.crypto import keyring
from app.extensions import db
from app.models import Incident, Report, User
from app.models.user import ADMIN, MODERATOR, RESEARCHER
from app.notifications import NEW_REPORT, queue_notification
from tests.factories import report_form_data
from tests.functional.conftest import (
    hidden_value,
    post_report,
    receipt_code,
    walk_to_last_step,
)
from tests.pages import LANGUAGES, say
from tests.smtp import (
    HOST,
    ReceivedMail,
    SmtpServer,
    free_port,
    running_smtp_server,
    self_signed_certificate,
    server_tls_context,
)

NOTIFIED = {"leitung@example.org", "ayse@example.org"}
STAFF = [
    # email, role, opted in, active
    ("leitung@example.org", ADMIN, True, True),
    ("ayse@example.org", MODERATOR, True, True),
    ("jonas@example.org", MODERATOR, False, True),
    ("ehemals@example.org", MODERATOR, True, False),
    ("forschung@example.org", RESEARCHER, True, True),
]
# One subject in every configured language, as the receiving mail program shows it.
NEW_SUBJECT = "Meldeportal: " + " / ".join(say(lang, "neue Meldung") for lang in LANGUAGES)
ANSWER_SUBJECT = "Meldeportal: " + " / ".join(say(lang, "Antwort") for lang in LANGUAGES)
# Every header a notice may carry: none can hold anything about a report.
ALLOWED_HEADERS = {
    "subject", "from", "to", "date", "message-id", "auto-submitted", "content-type",
    "content-transfer-encoding", "mime-version",
}  # fmt: skip


@pytest.fixture
def mail_app(db_app: Flask) -> Flask:
    """A migrated app with an organisation key and the five staff accounts; no mail server."""
    with db_app.app_context():
        keyring.initialise_keys(dt.date(2026, 11, 26))
        for email, role, opted_in, active in STAFF:
            db.session.add(
                User(
                    email=email,
                    role=role,
                    password_salt=b"0" * 16,
                    password_params={},
                    password_verifier=b"0" * 32,
                    sealed_totp_secret=b"x",
                    notify_new_reports=opted_in,
                    active=active,
                    created_on=dt.date(2026, 11, 1),
                )
            )
        db.session.commit()
    return db_app


@pytest.fixture
def smtp(mail_app: Flask) -> Iterator[SmtpServer]:
    """A local SMTP server, configured as the app's."""
    with running_smtp_server() as server:
        mail_app.config.update(
            MAIL_SERVER=server.host,
            MAIL_PORT=server.port,
            MAIL_TIMEOUT=5,
            MAIL_FROM="Meldeportal <meldeportal@melden.example.org>",
            PUBLIC_BASE_URL="https://melden.example.org/",
        )
        yield server


def count_reports(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Report)) or 0)


def assert_content_free(mail: ReceivedMail, *secrets: str) -> None:
    message = mail.message
    assert {name.lower() for name in message.keys()} <= ALLOWED_HEADERS
    body = mail.body
    # No id, no date, no count: the only digits would be in the (digit-free) link.
    assert not re.search(r"\d", body), body
    raw = mail.data.decode("utf-8", "replace")
    for secret in secrets:
        assert secret not in raw
        assert secret not in body


def test_a_new_report_notifies_each_opted_in_moderator_once_after_the_commit(
    mail_app: Flask, smtp: SmtpServer, database_url: str
) -> None:
    committed_when_sent: list[int] = []

    def count_committed_reports(_mail: ReceivedMail) -> None:
        # Another connection sees only committed rows: the report must be there already.
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                committed_when_sent.append(connection.scalar(text("SELECT count(*) FROM report")))
        finally:
            engine.dispose()

    smtp.handler.on_mail = count_committed_reports
    client = mail_app.test_client()
    data = report_form_data(description="Beleidigt in der Linie 11 am Hauptbahnhof.")
    response = post_report(client, data)
    assert response.status_code == 200
    code = receipt_code(response)

    assert committed_when_sent == [1, 1]
    assert len(smtp.mails) == 2
    assert sorted(len(mail.recipients) for mail in smtp.mails) == [1, 1]  # one mail per person
    assert {mail.recipients[0] for mail in smtp.mails} == NOTIFIED
    for mail in smtp.mails:
        message = mail.message
        assert message["Subject"] == NEW_SUBJECT
        assert message["To"] == mail.recipients[0]  # nobody sees the others' addresses
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"].endswith("@melden.example.org>")
        assert "Im Meldeportal ist eine neue Meldung eingegangen." in mail.body
        assert "A new report has arrived in Meldeportal." in mail.body
        assert "https://melden.example.org/moderation/" in mail.body
        assert_content_free(
            mail, code, code.replace("-", ""), "Linie 11", "Hauptbahnhof", "Eisenbahnstraße",
            "leipzig", "threat", "verbal_abuse",
        )  # fmt: skip
    with mail_app.app_context():
        assert db.session.scalar(select(Incident.report_id)) is not None


def test_a_repeated_form_and_a_refused_form_send_nothing(mail_app: Flask, smtp: SmtpServer) -> None:
    client = mail_app.test_client()
    _page, sending = walk_to_last_step(client, report_form_data())
    send = {"data": sending, "content_type": "multipart/form-data"}
    assert client.post("/de/report", **send).status_code == 200
    assert len(smtp.mails) == 2
    # The same form again (a reload, a double click): the same receipt, no second notice.
    assert client.post("/de/report", **send).status_code == 200
    # A form with an error is shown again: nothing stored, nothing sent.
    refused = post_report(client, report_form_data(role=None))
    assert refused.status_code == 422
    assert len(smtp.mails) == 2
    assert count_reports(mail_app) == 1


def test_the_reporters_answer_notifies_but_a_refused_one_does_not(
    mail_app: Flask, smtp: SmtpServer
) -> None:
    client = mail_app.test_client()
    code = receipt_code(post_report(client, report_form_data()))
    smtp.mails.clear()
    csrf = hidden_value(client.get("/de/report/status").get_data(as_text=True), "csrf_token")
    assert (
        client.post("/de/report/status", data={"csrf_token": csrf, "code": code}).status_code == 303
    )
    empty = client.post("/de/report/status/message", data={"csrf_token": csrf, "text": " "})
    assert empty.status_code == 422
    assert smtp.mails == []

    answer = "Es war gegen 18 Uhr an der Haltestelle Rabet."
    sent = client.post("/de/report/status/message", data={"csrf_token": csrf, "text": answer})
    assert sent.status_code == 303
    assert {mail.recipients[0] for mail in smtp.mails} == NOTIFIED
    for mail in smtp.mails:
        assert mail.message["Subject"] == ANSWER_SUBJECT
        assert "Eine meldende Person hat im Meldeportal geantwortet." in mail.body
        assert "A reporter has answered in Meldeportal." in mail.body
        assert_content_free(mail, code, "Rabet", "18 Uhr")


def test_a_partner_api_report_notifies(mail_app: Flask, smtp: SmtpServer) -> None:
    with mail_app.app_context():
        _token, token = create_token("Beratungsstelle", ["submit"], today=dt.date.today())
        db.session.commit()
    api = mail_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = report_form_data(consent_special_categories=True, description="Über die API.")
    response = api.post("/api/v1/reports", json=body, headers=headers)
    assert response.status_code == 201
    assert {mail.recipients[0] for mail in smtp.mails} == NOTIFIED
    for mail in smtp.mails:
        assert_content_free(mail, response.get_json()["receipt_code"], "API")
    refused = api.post("/api/v1/reports", json={**body, "role": "nobody"}, headers=headers)
    assert refused.status_code == 422
    assert len(smtp.mails) == 2


def test_without_a_link_the_mail_says_where_to_go_in_words(
    mail_app: Flask, smtp: SmtpServer
) -> None:
    mail_app.config["PUBLIC_BASE_URL"] = None
    assert post_report(mail_app.test_client(), report_form_data()).status_code == 200
    body = smtp.mails[0].body
    assert "Bitte melden Sie sich an, um sie zu lesen." in body
    assert "http" not in body


def test_no_mail_server_configured_sends_nothing(mail_app: Flask, smtp: SmtpServer) -> None:
    mail_app.config["MAIL_SERVER"] = None
    assert post_report(mail_app.test_client(), report_form_data()).status_code == 200
    assert smtp.mails == []


def test_nobody_opted_in_means_no_connection(mail_app: Flask, smtp: SmtpServer) -> None:
    with mail_app.app_context():
        for user in db.session.scalars(select(User)):
            user.notify_new_reports = False
        db.session.commit()
    connections: list[str] = []
    smtp.handler.on_mail = lambda mail: connections.append(mail.sender)
    assert post_report(mail_app.test_client(), report_form_data()).status_code == 200
    assert connections == []


class _Said(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def said() -> Iterator[list[logging.LogRecord]]:
    """What the app's loggers said, caught on the ``meldeportal`` logger itself.

    Said while a reporter's request is served, it reaches no log (app.reporter_logs): every
    notice is sent from one. It must be content-free all the same.
    """
    handler = _Said()
    logger = logging.getLogger("meldeportal")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def _mail_warnings(said: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in said if r.name == "meldeportal.mail"]


def _our_log(said: list[logging.LogRecord]) -> str:
    """What the app said (the test server's own log, mail.log, names addresses)."""
    return "\n".join(r.getMessage() for r in said)


def test_an_unreachable_server_does_not_fail_the_report(
    mail_app: Flask, caplog: pytest.LogCaptureFixture, said: list[logging.LogRecord]
) -> None:
    caplog.set_level(logging.INFO)
    mail_app.config.update(MAIL_SERVER=HOST, MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    response = post_report(mail_app.test_client(), report_form_data())
    assert response.status_code == 200
    assert receipt_code(response)
    assert count_reports(mail_app) == 1
    (warning,) = _mail_warnings(said)
    assert "new_report not sent" in warning
    assert "ConnectionRefusedError" in warning
    assert "0 of 2 recipients" in warning
    assert "example.org" not in _our_log(said)  # no address is ever logged
    # Nor written to any log at all: its time would be the report's.
    assert [r for r in caplog.records if r.name == "meldeportal.mail"] == []


def test_a_refusing_server_does_not_fail_the_report(
    mail_app: Flask, smtp: SmtpServer, caplog: pytest.LogCaptureFixture,
    said: list[logging.LogRecord],
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    smtp.handler.reply = "554 5.7.1 ayse@example.org: Transaction failed"
    response = post_report(mail_app.test_client(), report_form_data())
    assert response.status_code == 200
    assert count_reports(mail_app) == 1
    (warning,) = _mail_warnings(said)
    assert warning == "Notification new_report refused for 2 of 2 recipients: SMTPDataError 554"
    assert "example.org" not in _our_log(said)


def test_unreadable_recipients_do_not_fail_the_report(
    mail_app: Flask, smtp: SmtpServer, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch, said: list[logging.LogRecord],
) -> None:  # fmt: skip
    def broken() -> list[str]:
        raise RuntimeError("database gone")

    monkeypatch.setattr(app.notifications, "notification_recipients", broken)
    assert post_report(mail_app.test_client(), report_form_data()).status_code == 200
    assert smtp.mails == []
    assert _mail_warnings(said) == ["Notification not sent: recipients unreadable (RuntimeError)"]
    assert count_reports(mail_app) == 1


def test_starttls_and_login(
    mail_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, said: list[logging.LogRecord],
) -> None:  # fmt: skip
    cert_file, key_file = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the app's client trusts the test CA
    logins: list[bytes] = []

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        assert session.ssl is not None  # only ever over TLS
        logins.append(data.login)
        ok = data == LoginPassword(b"meldeportal", b"richtiges Passwort")
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    with running_smtp_server(
        tls_context=server_tls_context(cert_file, key_file),
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    ) as server:
        mail_app.config.update(
            MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_USE_STARTTLS=True,
            MAIL_USERNAME="meldeportal", MAIL_PASSWORD="richtiges Passwort",
        )  # fmt: skip
        assert post_report(mail_app.test_client(), report_form_data()).status_code == 200
        assert {mail.recipients[0] for mail in server.mails} == NOTIFIED

        mail_app.config["MAIL_PASSWORD"] = "falsches Passwort"
        assert post_report(mail_app.test_client(), report_form_data()).status_code == 200
        assert len(server.mails) == 2
    assert logins[0] == b"meldeportal"
    assert len(logins) >= 2  # smtplib tries PLAIN, then LOGIN, before it gives up
    (warning,) = _mail_warnings(said)
    assert "SMTPAuthenticationError 535" in warning
    assert "Passwort" not in _our_log(said)
    assert "example.org" not in _our_log(said)
    assert count_reports(mail_app) == 2


def test_only_known_kinds_can_be_queued(mail_app: Flask) -> None:
    with mail_app.test_request_context():
        queue_notification(NEW_REPORT)
        queue_notification(NEW_REPORT)
        assert g.notification_outbox == [NEW_REPORT]
        with pytest.raises(ValueError, match="unknown notification kind"):
            queue_notification("report_content")
