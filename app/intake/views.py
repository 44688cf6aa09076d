"""Routes of the public intake: report, receipt, status. Each parses, calls one service, renders."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
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
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import escape
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests, UnsupportedMediaType

from app.audit import security_log
from app.codebook import current_codebook
from app.codebook.answers import Answers, InvalidAnswers, parse_answers
from app.crypto.codes import normalise as normalise_code
from app.crypto.envelope import ReportKey
from app.crypto.errors import ImageRejected
from app.crypto.receipts import RECEIPT_CHARACTERS, receipt_for_submission
from app.crypto.reports import Evidence
from app.database import write_now
from app.errors import render_error
from app.extensions import db, limiter
from app.intake import bp, followup
from app.intake.evidence import clean_upload
from app.intake.forms import HONEYPOT_FIELD, ReportFormBase, report_form_class
from app.intake.services import already_submitted, submit_report, take_report_id
from app.intake.steps import (
    FormState,
    StateProblem,
    StateRefused,
    Step,
    binding,
    clean_answers,
    minutes_left,
    read_state,
    sign_state,
    step_of_question,
    steps_of,
)
from app.intake.tokens import issue_form_token, read_form_token
from app.mailbox import REPORTER, TextRefused, add_message
from app.models import Report
from app.notifications import NEW_REPORT, REPORTER_ANSWERED, queue_notification
from app.requests import accepts_uploads, upload_was_kept
from app.security import forbid_caching
from app.text import isolate, normalise_text, without_format_characters

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


def image_limits(max_files: int) -> dict[str, str]:
    """Data attributes for a file input: the limits and their messages, for the script that
    says at once when a choice does not fit (static/js/image-limits.js)."""
    max_bytes = int(current_app.config["IMAGE_MAX_BYTES"])
    return {
        "data-max-files": str(max_files),
        "data-max-bytes": str(max_bytes),
        "data-too-many": _("Bitte wählen Sie höchstens %(count)s Bilder.", count=max_files),
        "data-too-large": _(
            "„%(name)s“ ist größer als %(size)s MB.", name="{name}", size=max_bytes // (1024 * 1024)
        ),  # fmt: skip
    }


@bp.app_context_processor  # the case view shows the same question fields
def upload_helpers() -> dict[str, Any]:
    return {
        "image_limits": image_limits,
        "max_images": current_codebook().question("images").max_files or 0,
    }


def _new_form() -> ReportFormBase:
    return report_form_class(current_codebook(), g.lang)()


FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
IMAGES_AGAIN = _l("Aus Sicherheitsgründen behält der Browser ausgewählte Bilder nicht: bitte "
                  "wählen Sie sie noch einmal aus.")  # fmt: skip
STATE_FIELD = "form_state"
# Per-request values put into a cached blank step page (nothing a codebook text can contain).
SLOT_CSRF, SLOT_STATE = "@@mp-csrf@@", "@@mp-state@@"
# The blank page of each step, by language, step, codebook and day (date inputs end today).
BLANK_STEPS = "meldeportal.blank_report_steps"  # app.extensions key of the cache


def _is_form_body() -> bool:
    """Only a browser's form encodings carry a report; JSON and the like are another client's.
    An empty body is an empty form."""
    return request.mimetype in FORM_TYPES or not (request.mimetype or request.content_length)


def _chose_images() -> bool:
    """The request carried chosen images, which no page we answer with can keep."""
    return any(upload and upload.filename for upload in request.files.getlist("images"))


def _is_send() -> bool:
    return request.method == "POST" and request.form.get("action") == "send"


def _csrf_secret() -> str:
    generate_csrf()  # makes sure this browser's session has its CSRF secret
    return str(session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), ""))


def _state_max_age() -> int | None:
    limit = current_app.config.get("WTF_CSRF_TIME_LIMIT")
    return int(limit) if limit else None


@dataclass
class StepPost:
    """What a POST of one step brought: the answers so far and the step they were sent from."""

    form: ReportFormBase
    token: tuple[str, int] | None
    state: FormState | None
    problem: StateProblem | None
    step: Step
    answers: dict[str, Any]


def _read_step_post() -> StepPost:
    """The posted step's answers over those of the signed state. A state that is not ours,
    too old, or another session's is dropped, and only what was posted is kept."""
    codebook, form = current_codebook(), _new_form()
    steps = steps_of(codebook)
    secret = current_app.config["SECRET_KEY"]
    state, token, problem = None, None, None
    try:
        state = read_state(
            secret, request.form.get(STATE_FIELD), codebook=codebook,
            bound_to=binding(_csrf_secret()), max_age=_state_max_age(),
        )  # fmt: skip
        token = read_form_token(secret, state.form_token)
        if token is None:
            state, problem = None, StateProblem.TAMPERED
    except StateRefused as refused:
        problem = refused.problem
    if state is not None:
        step = steps[state.step - 1]
        on_step = {q.id for q in step.questions}
        posted = clean_answers(codebook, {qid: form[qid].data for qid in on_step})
        kept = {qid: value for qid, value in state.answers.items() if qid not in on_step}
        return StepPost(form, token, state, None, step, {**kept, **posted})
    posted = clean_answers(codebook, form.raw_answers())
    step = next((s for s in steps if any(q.id in posted for q in s.questions)), steps[0])
    return StepPost(form, None, None, problem, step, posted)


def _refused_notice(post: StepPost) -> str:
    """Says what was kept, and only when there is something to keep."""
    if not post.answers:
        return str(_("Das Formular war abgelaufen. Bitte füllen Sie es noch einmal aus."))
    notice = _("Die Sitzung war abgelaufen. Ihre Angaben sind noch da: bitte prüfen Sie sie und "
               "senden Sie das Formular noch einmal.")  # fmt: skip
    if post.state is None and post.problem is not None:
        notice = _("Die Sitzung war abgelaufen. Die Angaben auf dieser Seite sind noch da; "
                   "Angaben aus den anderen Schritten konnten wir aus Sicherheitsgründen nicht "
                   "übernehmen: bitte prüfen Sie alle Schritte.")  # fmt: skip
    return str(notice)


def _support_without_contact(step: Step, answers: dict[str, Any]) -> bool:
    """Support was asked for, and no way to reach the person was given (shown where the
    contact is asked, before sending)."""
    return (
        step.final
        and answers.get("support_wished") == "counselling_referral"
        and not answers.get("contact_email")
    )


def _render_step(
    step: Step,
    answers: dict[str, Any],
    *,
    reached: int = 1,
    signed_form_token: str | None = None,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """One step of the form, its answers filled in, the state of every other step signed into
    the page. Every page after a request that carried images says to choose them again."""
    codebook, secret = current_codebook(), current_app.config["SECRET_KEY"]
    steps = steps_of(codebook)
    if signed_form_token is None or read_form_token(secret, signed_form_token) is None:
        signed_form_token = issue_form_token(secret)
    state = FormState(step.number, max(reached, step.number), answers, signed_form_token)
    slots = {
        SLOT_CSRF: generate_csrf(),
        SLOT_STATE: sign_state(secret, state, binding(_csrf_secret())),
    }
    images_again = _chose_images()
    support_notice = _support_without_contact(step, answers)
    on_step = {q.id for q in step.questions}
    blank = not (notice or errors or images_again or support_notice or on_step & set(answers))
    today = _today().isoformat()
    if blank:
        key = (g.lang, step.number, codebook.hash, today)
        # Per app, not per process: the page depends on the app's configuration and templates.
        blank_steps: dict[tuple[str, int, str, str], str] = current_app.extensions.setdefault(
            BLANK_STEPS, {}
        )
        page = blank_steps.get(key)
        if page is None:
            if len(blank_steps) > 64:  # yesterday's pages
                blank_steps.clear()
            page = blank_steps[key] = _step_page(step, steps, today, slots=None)
        for slot, value in slots.items():
            page = page.replace(slot, str(escape(value)), 1)
        return page, status
    form = report_form_class(codebook, g.lang)(
        formdata=None, data={qid: answers[qid] for qid in on_step if qid in answers}
    )
    for question_id, message in (errors or {}).items():
        if question_id in on_step:
            form[question_id].errors = [message]
    return _step_page(
        step, steps, today, slots=slots, form=form, notice=notice,
        images_again=images_again, support_notice=support_notice,
    ), status  # fmt: skip


def _step_page(
    step: Step,
    steps: tuple[Step, ...],
    today: str,
    *,
    slots: dict[str, str] | None,
    form: ReportFormBase | None = None,
    notice: str | None = None,
    images_again: bool = False,
    support_notice: bool = False,
) -> str:
    codebook = current_codebook()
    values = slots or {slot: slot for slot in (SLOT_CSRF, SLOT_STATE)}
    return render_template(
        "intake/report.html",
        form=form or report_form_class(codebook, g.lang)(formdata=None),
        step=step,
        steps=steps,
        minutes_left=minutes_left(steps, step.number),
        csrf_value=values[SLOT_CSRF],
        state_value=values[SLOT_STATE],
        notice=notice,
        images_again=images_again,
        support_notice=support_notice,
        codebook=codebook,
        lang=g.lang,
        today=today,
    )


def status_address() -> str:
    """The status page's address written out in the page's language, for paper.

    ``PUBLIC_BASE_URL`` when the operator set it (behind a proxy the request may name an
    internal host), else the host this request came to.
    """
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return url_for("intake.status", _external=True)
    path = url_for("intake.status")[len(request.script_root) :]
    return str(base).rstrip("/") + path


def _render_receipt(
    signed_token: str | None, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    """The receipt for the report made from this form (the same code on every repeat)."""
    token = read_form_token(current_app.config["SECRET_KEY"], signed_token)
    if token is None:
        abort(400)
    receipt = receipt_for_submission(_receipt_secret(), token[0])
    return render_template(
        "intake/receipt.html", receipt=receipt, form_token=signed_token, error=error,
        status_address=status_address(),
    ), status  # fmt: skip


def clean_images(uploads: list[FileStorage], max_files: int) -> tuple[list[Evidence], list[str]]:
    """Re-encode each upload in memory; the messages name every limit passed and refused file.

    Files beyond ``max_files``, and the part of a file beyond the size limit, were never kept
    (app/requests.py): they are named here, never decoded.
    """
    evidence, problems = [], []
    if len(uploads) > max_files:
        problems.append(_("Bitte wählen Sie höchstens %(count)s Bilder (Sie hatten %(chosen)s "
                          "gewählt).", count=max_files, chosen=len(uploads)))  # fmt: skip
    for upload in uploads[:max_files]:
        name = normalise_text(upload.filename or "")[:200]
        if not upload_was_kept(upload):
            problems.append(str(IMAGE_MESSAGES["too_large"]) % {"name": isolate(name)})
            continue
        try:
            image = clean_upload(upload)
        except ImageRejected as rejected:
            # Isolated, so direction marks in a file name cannot reorder the sentence around it.
            problems.append(str(IMAGE_MESSAGES[rejected.reason]) % {"name": isolate(name)})
            continue
        evidence.append(Evidence(image, name))
    return evidence, problems


def _answer_errors(answers: dict[str, Any]) -> tuple[Answers | None, dict[str, str]]:
    try:
        return parse_answers(current_codebook(), answers, _today()), {}
    except InvalidAnswers as invalid:
        return None, invalid.errors


@bp.route("/<lang:lang>/report", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["REPORT_RATE_LIMIT"], methods=["POST"],
    exempt_when=lambda: not _is_send(),  # only sending counts: going between steps is free
)  # fmt: skip
@accepts_uploads
def report() -> ResponseReturnValue:
    """The form, one step per page; sending the last one stores the report, shows the receipt."""
    steps = steps_of(current_codebook())
    if request.method != "POST":  # GET, and HEAD like it
        return _render_step(steps[0], {})
    if not _is_form_body():
        abort(415)
    post = _read_step_post()
    signed_token = post.state.form_token if post.state else None
    if post.state is None:
        return _render_step(post.step, post.answers, reached=post.step.number,
                            notice=_refused_notice(post), status=400)  # fmt: skip
    reached, step, answers = post.state.reached, post.step, post.answers
    if post.form.data.get(HONEYPOT_FIELD):
        notice = _("Ihre Meldung konnte so nicht angenommen werden. Bitte lassen Sie das Feld "
                   "„Webseite“ leer.")  # fmt: skip
        return _render_step(step, answers, reached=reached, signed_form_token=signed_token,
                            notice=notice, status=400)  # fmt: skip
    action = request.form.get("action", "next")
    target: Step | None = None
    if action == "back":
        target = steps[max(step.number - 2, 0)]
    elif action.startswith("goto-") and action[5:].isdigit() and 1 <= int(action[5:]) <= reached:
        target = steps[int(action[5:]) - 1]
    elif action == "skip" and step.optional:
        skipped = {q.id for q in step.questions}
        answers = {qid: value for qid, value in answers.items() if qid not in skipped}
        target = steps[step.number]
    elif action == "send" and step.final:
        return _send(post, answers)
    if target is not None:
        return _render_step(target, answers, reached=reached, signed_form_token=signed_token)
    _coded, errors = _answer_errors(answers)
    errors = {qid: message for qid, message in errors.items()
              if qid in {q.id for q in step.questions}}  # fmt: skip
    if errors or step.final:
        return _render_step(step, answers, reached=reached, signed_form_token=signed_token,
                            errors=errors, status=422 if errors else 200)  # fmt: skip
    return _render_step(steps[step.number], answers, reached=reached,
                        signed_form_token=signed_token)  # fmt: skip


def _send(post: StepPost, answers: dict[str, Any]) -> ResponseReturnValue:
    """The last step: everything is checked again, whatever the steps before let through."""
    assert post.token is not None  # noqa: S101 - checked by the caller
    assert post.state is not None  # noqa: S101
    form_token, issued_at = post.token
    signed_token = post.state.form_token
    steps, reached = steps_of(current_codebook()), post.state.reached
    if already_submitted(form_token, _receipt_secret()) is not None:
        return _render_receipt(signed_token)
    if time.time() - issued_at < current_app.config["INTAKE_MIN_FILL_SECONDS"]:
        notice = _("Das ging sehr schnell. Bitte prüfen Sie Ihre Angaben und senden Sie das "
                   "Formular noch einmal.")  # fmt: skip
        return _render_step(post.step, answers, reached=reached, signed_form_token=signed_token,
                            notice=notice, status=400)  # fmt: skip
    coded, errors = _answer_errors(answers)
    uploads = [f for f in (post.form.images.data or []) if f and f.filename]
    evidence, problems = clean_images(uploads, current_codebook().question("images").max_files or 0)
    if problems:
        errors["images"] = " ".join(problems)
    if errors or coded is None:
        first = min((step_of_question(steps, qid) for qid in errors), key=lambda s: s.number)
        return _render_step(first, answers, reached=reached, signed_form_token=signed_token,
                            errors=errors, status=422)  # fmt: skip
    stored = submit_report(
        coded,
        evidence,
        codebook=current_codebook(),
        receipt=receipt_for_submission(_receipt_secret(), form_token),
        today=_today(),
        receipt_secret=_receipt_secret(),
        form_token=form_token,
        report_id=take_report_id(),  # sealed with no write lock held
    )
    page = _render_receipt(signed_token)  # rendered before the write lock is taken
    try:
        write_now([stored.report, stored.incident])  # held from here to the request's commit
    except IntegrityError:
        # The same form, sent twice at once: the other request stored it and shows the same
        # receipt (the code comes from the form's token).
        db.session.rollback()
        if already_submitted(form_token, _receipt_secret()) is None:
            raise
        return page
    queue_notification(NEW_REPORT)  # sent after the commit, to staff who opted in
    return page


@bp.post("/<lang:lang>/report/receipt")
def receipt_kept() -> ResponseReturnValue:
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


@bp.get("/<lang:lang>/report/thanks")
def thanks() -> str:
    return render_template("intake/thanks.html", status_address=status_address())


@bp.errorhandler(CSRFError)
def keep_what_was_typed_on_csrf_failure(error: CSRFError) -> ResponseReturnValue:
    """An expired or missing security token must not cost a person what they typed.

    One short log line, without the path: the token's problem, nothing that dates a report.
    """
    security_log.warning("refused a public form without a valid security token: %s",
                         error.description)  # fmt: skip
    endpoint = request.endpoint
    if not _is_form_body():
        return render_error(UnsupportedMediaType())
    if endpoint == "intake.report":
        return _render_refused_post(400)
    if endpoint == "intake.status":
        notice = _("Die Sitzung war abgelaufen. Bitte öffnen Sie Ihre Meldung noch einmal.")
        return _code_page_again(notice, 400)
    if endpoint in STATUS_ACTIONS:
        opened = _open_report()
        if opened is None:
            return _status_lost(400)
        return _status_action_again(*opened)
    if endpoint == "intake.status_leave":  # leaving is always safe: do it
        return status_leave()
    if endpoint == "intake.receipt_kept":
        signed = request.form.get("form_token", "")
        token = read_form_token(current_app.config["SECRET_KEY"], signed)
        if token is not None and already_submitted(token[0], _receipt_secret()) is not None:
            notice = _("Die Sitzung war abgelaufen. Bitte bestätigen Sie noch einmal, dass Sie "
                       "Ihren Code aufbewahrt haben.")  # fmt: skip
            return _render_receipt(signed, notice, 400)
    return render_error(error)


def _render_refused_post(status: int, notice: str | None = None) -> ResponseReturnValue:
    """The step that was sent again, with everything that can be kept, after a POST the form
    could not take (an expired security token, the rate limit)."""
    post = _read_step_post()
    signed_token = post.state.form_token if post.state else None
    reached = post.state.reached if post.state else post.step.number
    return _render_step(post.step, post.answers, reached=reached, signed_form_token=signed_token,
                        notice=notice or _refused_notice(post), status=status)  # fmt: skip


@bp.errorhandler(TooManyRequests)
def keep_the_form_when_limited(error: TooManyRequests) -> ResponseReturnValue:
    if request.endpoint == "intake.report" and _is_form_body():
        notice = _("Von Ihrem Anschluss kamen gerade sehr viele Meldungen. Ihre Angaben sind noch "
                   "da: bitte versuchen Sie es in einer Stunde noch einmal.")  # fmt: skip
        return _render_refused_post(429, notice)
    if request.endpoint == "intake.status":
        notice = _("Zu viele Versuche. Bitte warten Sie eine Viertelstunde und versuchen Sie es "
                   "dann noch einmal.")  # fmt: skip
        return _code_page_again(notice, 429)
    return render_error(error)


@bp.errorhandler(RequestEntityTooLarge)
def name_the_size_limit(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """Only bodies beyond UPLOAD_BODY_LIMIT (or hostile ones) get here: nothing could be read."""
    if request.endpoint not in {"intake.report", "intake.status_evidence"}:
        return render_error(error)
    megabytes = current_app.config["UPLOAD_BODY_LIMIT"] // (1024 * 1024)
    message = _("Was Sie geschickt haben, ist größer als %(total)s MB, und konnte nicht gelesen "
                "werden. Erlaubt sind höchstens %(files)s Bilder mit je höchstens %(each)s MB. "
                "Gehen Sie mit „Zurück“ zu Ihrem Formular und wählen Sie weniger oder kleinere "
                "Bilder.", total=megabytes, files=current_codebook().question("images").max_files,
                each=current_app.config["IMAGE_MAX_BYTES"] // (1024 * 1024))  # fmt: skip
    return render_error(error, message=message)


# --- Follow-up with the receipt code -------------------------------------------------------

STATUS_KEY = "status"


def _stored_ticket() -> followup.StatusTicket | None:
    """The session this browser's cookie names, whether or not it has been idle too long."""
    data = session.get(STATUS_KEY)
    if not isinstance(data, dict):
        return None
    return followup.StatusTicket(str(data.get("id", "")), str(data.get("secret", "")))


def _idle() -> bool:
    seen = session.get(STATUS_KEY, {}).get("seen", 0)
    return bool(time.time() - seen > current_app.config["STATUS_IDLE_MINUTES"] * 60)


def _remember(ticket: followup.StatusTicket) -> None:
    session[STATUS_KEY] = {"id": ticket.session_id, "secret": ticket.secret,
                           "seen": int(time.time())}  # fmt: skip


def _forget() -> None:
    """End the browser's session, its row included: ended sessions must not pile up."""
    followup.close_status(_stored_ticket())
    session.pop(STATUS_KEY, None)


def _open_report() -> tuple[Report, ReportKey] | None:
    ticket = _stored_ticket()
    if ticket is None or _idle():
        _forget()
        return None
    try:
        found = followup.resume_status(ticket, now=dt.datetime.now(dt.UTC))
    except followup.StatusClosed:
        _forget()
        return None
    _remember(ticket)
    return found


def _code_page(
    notice: str | None = None,
    status: int = 200,
    *,
    code: str = "",
    pending_text: str = "",
    pending_kind: str = "message",
) -> ResponseReturnValue:
    """The form for the receipt code; a message typed before the view ended rides along."""
    return render_template(
        "intake/status_open.html", notice=notice, code=code, pending_text=pending_text,
        pending_kind=pending_kind,
    ), status  # fmt: skip


def _typed_code() -> str:
    """The code as typed, for the field again (never logged): a person checks it sign by sign
    against their note, so it keeps their spelling. Only what they cannot see goes (control and
    format characters: a direction mark would reorder the field; reading ignores them too)."""
    return normalise_text(without_format_characters(request.form.get("code", "")[:100]))


def _pending_message() -> tuple[str, str]:
    """A message typed on an ended status view, carried by the code form."""
    text = normalise_text(request.form.get("pending_text", ""))
    kind = "addition" if request.form.get("pending_kind") == "addition" else "message"
    return text, kind


def _code_page_again(notice: str, status: int) -> ResponseReturnValue:
    """The code form after a refused POST of it, with everything it carried, the code too."""
    pending_text, pending_kind = _pending_message()
    return _code_page(notice, status, code=_typed_code(), pending_text=pending_text,
                      pending_kind=pending_kind)  # fmt: skip


def _wrong_code_notice(typed: str) -> str:
    """Names the count of signs read when it is not a code's: the likeliest slip."""
    count = len(normalise_code(typed))
    if count != RECEIPT_CHARACTERS:
        return str(_("Zu diesem Code haben wir keine Meldung gefunden. Ein Code hat %(expected)s "
                     "Zeichen (ohne Bindestriche), wir haben %(count)s gelesen. Bitte prüfen Sie "
                     "ihn Zeichen für Zeichen.", expected=RECEIPT_CHARACTERS,
                     count=count))  # fmt: skip
    return str(_("Zu diesem Code haben wir keine Meldung gefunden. Bitte prüfen Sie ihn "
                 "Zeichen für Zeichen."))  # fmt: skip


def _typed_message() -> tuple[str, str]:
    text = normalise_text(request.form.get("text", ""))
    kind = "addition" if request.form.get("kind") == "addition" else "message"
    return text, kind


def _report_status(report: Report, mailbox_key: ReportKey) -> followup.ReportStatus:
    return followup.report_status(report, mailbox_key, today=_today(),
                                  retention_days=current_app.config["RETENTION_DAYS"])  # fmt: skip


def _status_lost(status: int) -> ResponseReturnValue:
    """The status view ended while the person acted on it: ask for the code, lose nothing."""
    if request.endpoint == "intake.status_message":
        text, kind = _typed_message()
        notice = _("Die Ansicht war abgelaufen. Ihr Text ist noch da: geben Sie Ihren Code noch "
                   "einmal ein, dann können Sie ihn senden.")  # fmt: skip
        return _code_page(notice, status, pending_text=text, pending_kind=kind)
    if request.endpoint == "intake.status_evidence":
        notice = _("Die Ansicht war abgelaufen. Bitte geben Sie Ihren Code noch einmal ein und "
                   "wählen Sie die Bilder danach noch einmal aus.")  # fmt: skip
    else:
        notice = _("Die Ansicht war abgelaufen. Bitte geben Sie Ihren Code noch einmal ein.")
    return _code_page(notice, status)


def _status_action_again(report: Report, mailbox_key: ReportKey) -> ResponseReturnValue:
    """The status page again, with what was typed, after a form that was too old to accept."""
    shown = _report_status(report, mailbox_key)
    notice = _("Das Formular war abgelaufen. Bitte senden Sie es noch einmal.")
    text, kind = _typed_message()
    if request.endpoint == "intake.status_evidence":
        notice = f"{notice} {IMAGES_AGAIN}"
    return render_template(
        "intake/status.html", status=shown, notice_text=notice, message_text=text,
        message_kind=kind,
    ), 400  # fmt: skip


@bp.route("/<lang:lang>/report/status", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STATUS_RATE_LIMIT"], methods=["POST"])
def status() -> ResponseReturnValue:
    """Enter the receipt code (POST), then see the report's state and mailbox (GET)."""
    if request.method == "POST":
        typed = request.form.get("code", "")[:100]
        pending_text, pending_kind = _pending_message()
        try:
            ticket = followup.open_status(
                typed,
                _receipt_secret(),
                now=dt.datetime.now(dt.UTC),
                lifetime=dt.timedelta(hours=current_app.config["STATUS_SESSION_HOURS"]),
            )
        except followup.ReportPurged:
            notice = _("Die persönlichen Angaben zu dieser Meldung wurden gelöscht. Anonyme "
                       "Zahlen bleiben in der Statistik.")  # fmt: skip
            return _code_page(notice)
        if ticket is None:
            return _code_page_again(_wrong_code_notice(typed), 404)
        _forget()  # a browser has one status session: the new one replaces the old one
        _remember(ticket)
        if not pending_text:
            return redirect(url_for("intake.status"), 303)
        opened = _open_report()
        if opened is None:  # pragma: no cover - the session was opened just now
            return redirect(url_for("intake.status"), 303)
        shown = _report_status(*opened)
        notice = _("Ihr Text ist eingefügt. Bitte prüfen Sie ihn und senden Sie ihn ab.")
        return render_template("intake/status.html", status=shown, notice_text=notice,
                               message_text=pending_text, message_kind=pending_kind)  # fmt: skip
    opened = _open_report()
    if opened is None:
        return _code_page()
    report, mailbox_key = opened
    shown = _report_status(report, mailbox_key)
    return render_template("intake/status.html", status=shown, notice=request.args.get("done"))


StatusAction = Callable[[Report, ReportKey], ResponseReturnValue]


def with_open_report(action: StatusAction) -> Callable[[], ResponseReturnValue]:
    """Run a status-page action on the open report; when the view has ended, ask for the code
    again and keep what was typed."""

    @wraps(action)
    def run() -> ResponseReturnValue:
        opened = _open_report()
        if opened is None:
            return _status_lost(200)
        return action(*opened)

    return run


@bp.post("/<lang:lang>/report/status/message")
@with_open_report
def status_message(report: Report, mailbox_key: ReportKey) -> ResponseReturnValue:
    text, kind = _typed_message()
    try:
        add_message(report, mailbox_key, text, author=REPORTER, kind=kind, today=_today())
    except TextRefused as refused:
        shown = _report_status(report, mailbox_key)
        return render_template(
            "intake/status.html", status=shown, message_error=refused.message,
            message_text=text, message_kind=kind,
        ), 422  # fmt: skip
    queue_notification(REPORTER_ANSWERED)
    return redirect(url_for("intake.status", done="sent"), 303)


@bp.post("/<lang:lang>/report/status/evidence")
@accepts_uploads
@with_open_report
def status_evidence(report: Report, mailbox_key: ReportKey) -> ResponseReturnValue:
    uploads = [f for f in request.files.getlist("images") if f and f.filename]
    evidence, problems = clean_images(uploads, current_codebook().question("images").max_files or 0)
    if not uploads:
        problems = [_("Bitte wählen Sie mindestens ein Bild aus.")]
    if problems:
        shown = _report_status(report, mailbox_key)
        return render_template("intake/status.html", status=shown, evidence_errors=problems), 422
    followup.add_evidence(report, mailbox_key, evidence)
    return redirect(url_for("intake.status", done="evidence"), 303)


@bp.post("/<lang:lang>/report/status/delete")
@with_open_report
def status_delete(report: Report, mailbox_key: ReportKey) -> ResponseReturnValue:
    if request.form.get("confirm") != "y":
        shown = _report_status(report, mailbox_key)
        error = _("Bitte bestätigen Sie, dass Ihre Meldung gelöscht werden soll.")
        return render_template("intake/status.html", status=shown, delete_error=error), 422
    followup.request_deletion(report, _today())
    return redirect(url_for("intake.status", done="deletion"), 303)


@bp.post("/<lang:lang>/report/status/leave")
def status_leave() -> ResponseReturnValue:
    _forget()
    return redirect(url_for("intake.status", left="1"), 303)


# The actions on an open status page (a form too old for them must not lose the person's text).
STATUS_ACTIONS = frozenset(
    {"intake.status_message", "intake.status_evidence", "intake.status_delete"}
)
