"""Routes of the public intake: report, receipt, status. Each parses, calls one service, renders."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import TooManyRequests

from app.codebook import current_codebook
from app.crypto.envelope import ReportKey
from app.crypto.errors import ImageRejected
from app.crypto.receipts import receipt_for_submission
from app.crypto.reports import Evidence
from app.extensions import db, limiter
from app.i18n import LANG_PREFIX
from app.intake import bp, followup
from app.intake.answers import has_forbidden_characters
from app.intake.evidence import clean_upload
from app.intake.forms import HONEYPOT_FIELD, ReportFormBase, report_form_class
from app.intake.services import already_submitted, remember_submission, submit_report
from app.intake.tokens import issue_form_token, read_form_token
from app.models import Report
from app.notifications import NEW_REPORT, REPORTER_ANSWERED, queue_notification
from app.security import forbid_caching

IMAGE_MESSAGES = {
    "too_large": _l("Das Bild „%(name)s“ ist größer als 10 MB."),
    "not_an_image": _l("„%(name)s“ ist kein Bild."),
    "unsupported_type": _l(
        "„%(name)s“ hat ein Format, das wir nicht annehmen (nur JPEG, PNG, WebP)."
    ),
    "too_many_pixels": _l("Das Bild „%(name)s“ hat zu viele Pixel."),
    "too_complex": _l(
        "Das Bild „%(name)s“ ist zu aufwendig zu verarbeiten (zu groß, zu hohe Farbtiefe oder "
        "zu viele Einzelbilder). Bitte senden Sie eine kleinere Fassung, etwa ein Bildschirmfoto."
    ),
    "damaged": _l("Das Bild „%(name)s“ ist beschädigt und lässt sich nicht öffnen."),
}


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _receipt_secret() -> bytes:
    return str(current_app.config["RECEIPT_SECRET"]).encode()


# Nothing a reporter typed or received may stay in a browser or proxy cache.
bp.after_request(forbid_caching)


def _new_form() -> ReportFormBase:
    return report_form_class(current_codebook(), g.lang)()


def _render_form(form: ReportFormBase, notice: str | None = None, status: int = 200) -> Any:
    if (
        not form.form_token.data
        or read_form_token(current_app.config["SECRET_KEY"], form.form_token.data) is None
    ):
        form.form_token.data = issue_form_token(current_app.config["SECRET_KEY"])
    return render_template(
        "intake/report.html",
        form=form,
        notice=notice,
        codebook=form.codebook,
        lang=g.lang,
        today=_today().isoformat(),
    ), status


def _render_receipt(signed_token: str | None, error: str | None = None, status: int = 200) -> Any:
    """The receipt for the report made from this form (the same code on every repeat)."""
    token = read_form_token(current_app.config["SECRET_KEY"], signed_token)
    if token is None:
        abort(400)
    receipt = receipt_for_submission(_receipt_secret(), token[0])
    return render_template(
        "intake/receipt.html", receipt=receipt, form_token=signed_token, error=error
    ), status


def _evidence(form: ReportFormBase) -> list[Evidence] | None:
    """The uploaded images, cleaned; None (with messages on the field) if any is refused."""
    uploads: list[FileStorage] = [f for f in (form.images.data or []) if f and f.filename]
    evidence, problems = clean_images(uploads, form.codebook.question("images").max_files or 0)
    if problems:
        form.images.errors = problems
        return None
    return evidence


def clean_images(uploads: list[FileStorage], max_files: int) -> tuple[list[Evidence], list[str]]:
    """Re-encode each upload in memory; the messages name every refused file."""
    if len(uploads) > max_files:
        return [], [_("Bitte wählen Sie höchstens %(count)s Bilder.", count=max_files)]
    evidence, problems = [], []
    for upload in uploads:
        name = (upload.filename or "")[:200]
        try:
            image = clean_upload(upload)
        except ImageRejected as rejected:
            problems.append(str(IMAGE_MESSAGES[rejected.reason]) % {"name": name})
            continue
        evidence.append(Evidence(image, name))
    return evidence, problems


@bp.route(f"{LANG_PREFIX}/report", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REPORT_RATE_LIMIT"], methods=["POST"])
def report() -> Any:
    """The report form; a valid POST stores the report and shows the receipt."""
    form = _new_form()
    if request.method == "GET":
        return _render_form(form)
    token = read_form_token(current_app.config["SECRET_KEY"], form.form_token.data)
    if token is None:
        notice = _("Das Formular war abgelaufen. Bitte prüfen Sie Ihre Angaben und senden Sie "
                   "es noch einmal.")  # fmt: skip
        return _render_form(form, notice, 400)
    form_token, issued_at = token
    if already_submitted(form_token, _receipt_secret()) is not None:
        return _render_receipt(form.form_token.data)
    if form.data.get(HONEYPOT_FIELD):
        return _render_form(form, _("Ihre Meldung konnte so nicht angenommen werden. Bitte "
                                    "lassen Sie das Feld „Webseite“ leer."), 400)  # fmt: skip
    if time.time() - issued_at < current_app.config["INTAKE_MIN_FILL_SECONDS"]:
        notice = _("Das ging sehr schnell. Bitte prüfen Sie Ihre Angaben und senden Sie das "
                   "Formular noch einmal.")  # fmt: skip
        return _render_form(form, notice, 400)
    valid = form.validate_answers(_today())
    evidence = _evidence(form)
    if not valid or evidence is None or form.answers is None:
        return _render_form(form, status=422)
    stored = submit_report(
        form.answers,
        evidence,
        codebook=form.codebook,
        receipt=receipt_for_submission(_receipt_secret(), form_token),
        today=_today(),
        receipt_secret=_receipt_secret(),
    )
    remember_submission(form_token, stored.report, _receipt_secret())
    try:
        db.session.flush()
    except IntegrityError:  # the same form, sent twice at once: the other request stored it
        db.session.rollback()
    else:
        queue_notification(NEW_REPORT)  # sent after the commit, to staff who opted in
    return _render_receipt(form.form_token.data)


@bp.post(f"{LANG_PREFIX}/report/receipt")
def receipt_kept() -> Any:
    """The person confirms they kept the code before the receipt page lets them go."""
    signed = request.form.get("form_token", "")
    token = read_form_token(current_app.config["SECRET_KEY"], signed)
    if token is None or already_submitted(token[0], _receipt_secret()) is None:
        abort(400)
    if request.form.get("kept") != "y":
        return _render_receipt(
            signed, _("Bitte bestätigen Sie, dass Sie Ihren Code aufbewahrt haben."), 422
        )
    return redirect(url_for("intake.thanks"), 303)


@bp.get(f"{LANG_PREFIX}/report/thanks")
def thanks() -> str:
    return render_template("intake/thanks.html")


@bp.errorhandler(CSRFError)
def keep_the_form_on_csrf_failure(error: CSRFError) -> Any:
    """An expired or missing security token must not cost a person their report."""
    if request.endpoint == "intake.report":
        notice = _("Die Sitzung war abgelaufen. Ihre Angaben sind noch da: bitte senden Sie das "
                   "Formular noch einmal.")  # fmt: skip
        return _render_form(_new_form(), notice, 400)
    return current_app.handle_http_exception(error)


@bp.errorhandler(TooManyRequests)
def keep_the_form_when_limited(error: TooManyRequests) -> Any:
    if request.endpoint == "intake.report":
        notice = _("Von Ihrem Anschluss kamen gerade sehr viele Meldungen. Ihre Angaben sind noch "
                   "da: bitte versuchen Sie es in einer Stunde noch einmal.")  # fmt: skip
        return _render_form(_new_form(), notice, 429)
    if request.endpoint == "intake.status":
        notice = _("Zu viele Versuche. Bitte warten Sie eine Viertelstunde und versuchen Sie es "
                   "dann noch einmal.")  # fmt: skip
        return render_template("intake/status_open.html", notice=notice), 429
    return current_app.handle_http_exception(error)


# --- Follow-up with the receipt code -------------------------------------------------------

STATUS_KEY = "status"


def _ticket() -> followup.StatusTicket | None:
    data = session.get(STATUS_KEY)
    if not isinstance(data, dict):
        return None
    seen = data.get("seen", 0)
    if time.time() - seen > current_app.config["STATUS_IDLE_MINUTES"] * 60:
        return None
    return followup.StatusTicket(str(data.get("id", "")), str(data.get("secret", "")))


def _remember(ticket: followup.StatusTicket) -> None:
    session[STATUS_KEY] = {"id": ticket.session_id, "secret": ticket.secret,
                           "seen": int(time.time())}  # fmt: skip


def _forget() -> None:
    session.pop(STATUS_KEY, None)


def _open_report() -> tuple[Report, ReportKey] | None:
    ticket = _ticket()
    if ticket is None:
        _forget()
        return None
    try:
        found = followup.resume_status(ticket, now=dt.datetime.now(dt.UTC))
    except followup.StatusClosed:
        _forget()
        return None
    _remember(ticket)
    return found


@bp.route(f"{LANG_PREFIX}/report/status", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STATUS_RATE_LIMIT"], methods=["POST"])
def status() -> Any:
    """Enter the receipt code (POST), then see the report's state and mailbox (GET)."""
    if request.method == "POST":
        try:
            ticket = followup.open_status(
                request.form.get("code", "")[:100],
                _receipt_secret(),
                now=dt.datetime.now(dt.UTC),
                lifetime=dt.timedelta(hours=current_app.config["STATUS_SESSION_HOURS"]),
            )
        except followup.ReportPurged:
            notice = _("Die persönlichen Angaben zu dieser Meldung wurden gelöscht. Anonyme "
                       "Zahlen bleiben in der Statistik.")  # fmt: skip
            return render_template("intake/status_open.html", notice=notice)
        if ticket is None:
            notice = _("Zu diesem Code haben wir keine Meldung gefunden. Bitte prüfen Sie ihn "
                       "Zeichen für Zeichen.")  # fmt: skip
            return render_template("intake/status_open.html", notice=notice), 404
        _remember(ticket)
        return redirect(url_for("intake.status"), 303)
    opened = _open_report()
    if opened is None:
        return render_template("intake/status_open.html")
    report, mailbox_key = opened
    shown = followup.report_status(report, mailbox_key)
    return render_template("intake/status.html", status=shown, notice=request.args.get("done"))


StatusAction = Callable[[Report, ReportKey], Any]


def with_open_report(action: StatusAction) -> Callable[[], Any]:
    """Run a status-page action on the open report, or send the person back to the code form."""

    @wraps(action)
    def run() -> Any:
        opened = _open_report()
        if opened is None:
            return redirect(url_for("intake.status"), 303)
        return action(*opened)

    return run


@bp.post(f"{LANG_PREFIX}/report/status/message")
@with_open_report
def status_message(report: Report, mailbox_key: ReportKey) -> Any:
    text = request.form.get("text", "").replace("\r\n", "\n").strip()
    kind = "addition" if request.form.get("kind") == "addition" else "message"
    error = followup_text_problem(text)
    if error:
        shown = followup.report_status(report, mailbox_key)
        return render_template(
            "intake/status.html", status=shown, message_error=error, message_text=text,
            message_kind=kind,
        ), 422  # fmt: skip
    followup.add_message(report, mailbox_key, text, author=followup.REPORTER, kind=kind,
                         today=_today())  # fmt: skip
    queue_notification(REPORTER_ANSWERED)
    return redirect(url_for("intake.status", done="sent"), 303)


def followup_text_problem(text: str) -> str | None:
    if not text:
        return str(_("Bitte schreiben Sie eine Nachricht."))
    if len(text) > 5000:
        return str(_("Die Nachricht ist zu lang (höchstens 5000 Zeichen)."))
    if has_forbidden_characters(text):
        return str(_("Der Text enthält unzulässige Steuerzeichen. Bitte entfernen Sie sie."))
    return None


@bp.post(f"{LANG_PREFIX}/report/status/evidence")
@with_open_report
def status_evidence(report: Report, mailbox_key: ReportKey) -> Any:
    uploads = [f for f in request.files.getlist("images") if f and f.filename]
    evidence, problems = clean_images(uploads, current_codebook().question("images").max_files or 0)
    if not uploads:
        problems = [_("Bitte wählen Sie mindestens ein Bild aus.")]
    if problems:
        shown = followup.report_status(report, mailbox_key)
        return render_template("intake/status.html", status=shown, evidence_errors=problems), 422
    followup.add_evidence(report, mailbox_key, evidence)
    return redirect(url_for("intake.status", done="evidence"), 303)


@bp.post(f"{LANG_PREFIX}/report/status/delete")
@with_open_report
def status_delete(report: Report, mailbox_key: ReportKey) -> Any:
    if request.form.get("confirm") != "y":
        shown = followup.report_status(report, mailbox_key)
        error = _("Bitte bestätigen Sie, dass Ihre Meldung gelöscht werden soll.")
        return render_template("intake/status.html", status=shown, delete_error=error), 422
    followup.request_deletion(report, _today())
    return redirect(url_for("intake.status", done="deletion"), 303)


@bp.post(f"{LANG_PREFIX}/report/status/leave")
def status_leave() -> Any:
    followup.close_status(_ticket())
    _forget()
    return redirect(url_for("intake.status", left="1"), 303)
