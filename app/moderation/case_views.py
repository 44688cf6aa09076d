"""Case routes: the queue, one case, and every action on it — for admins and moderators only.

Each route parses the request, calls one service of ``app.moderation.cases`` and renders or
redirects. Sealed content appears only in the answer to ``POST …/open`` (and as images from
``…/attachments/<n>``), escaped by Jinja like every other value. Researchers reach none of this:
the gate answers them 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from werkzeug.wrappers import Response

from app.auth.gate import end_current_staff_session, requires_role, staff_session
from app.codebook import current_codebook
from app.crypto.errors import SealError, SessionLocked
from app.crypto.keyring import UnlockedKeys
from app.crypto.sessions import SessionTicket, session_keys
from app.extensions import db
from app.models import Incident, SessionKey
from app.models.incident import (
    CLOSED,
    IN_REVIEW,
    NOT_VERIFIABLE,
    OUT_OF_SCOPE,
    STATES,
    VERIFIED,
)
from app.models.user import ADMIN, MODERATOR
from app.moderation import bp, cases
from app.moderation.forms import (
    MAX_ID,
    AssignForm,
    DeletionForm,
    DuplicateForm,
    MessageForm,
    NoteForm,
    QueueFilterForm,
    StateForm,
    coding_form_class,
    first_error,
)
from app.moderation.key_access import key_notice
from app.moderation.labels import CASE_STATES

PAGE_SIZE = 50
COUNT_CAP = 10_000  # the queue's counts per state stop here ("10,000+")
FILTER_NAMES = ("state", "type", "land", "from", "to", "assigned", "messages")

MOVE_LABELS = {
    IN_REVIEW: _l("Prüfung beginnen"),
    VERIFIED: _l("Als bestätigt markieren"),
    NOT_VERIFIABLE: _l("Als nicht überprüfbar markieren"),
    OUT_OF_SCOPE: _l("Als nicht zuständig markieren"),
    CLOSED: _l("Fall abschließen"),
}
DONE = {
    "state": _l("Der Stand ist geändert."),
    "assign": _l("Die Zuweisung ist gespeichert."),
    "code": _l("Die Kodierung ist gespeichert."),
    "note": _l("Die Notiz ist verschlüsselt gespeichert."),
    "duplicate": _l("Die Angabe zum Duplikat ist gespeichert."),
    "message": _l(
        "Die Nachricht ist verschlüsselt gespeichert. Die meldende Person liest sie mit ihrem Code."
    ),
    "deletion": _l("Die persönlichen Daten werden beim nächsten Löschlauf vernichtet."),
}
# An image is never rendered as a page: no script, no style, no plugin, sandboxed.
IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; sandbox"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    return _now().date()


def _idle_limit() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])


# --- The keys of this login ------------------------------------------------------------------


def _ticket() -> SessionTicket | None:
    cookie = (staff_session() or {}).get("keys")
    if not cookie:
        return None  # an invited account whose key slot is not granted yet
    try:
        return SessionTicket.from_cookie(str(cookie))
    except SessionLocked:
        return None


def _unlocked_keys() -> UnlockedKeys | None:
    """The organisation keys this login opened; None when they are locked (log in again)."""
    ticket = _ticket()
    if ticket is None:
        return None
    try:
        return session_keys(ticket, now=_now(), idle_timeout=_idle_limit())
    except SessionLocked:
        return None


def _keep_keys_alive() -> None:
    """Reading the queue or a case counts as using the keys.

    The keys session idles out on its own clock, which only opening something advances; without
    this, a moderator reading the queue for longer than the idle limit would find the keys
    locked while the staff session is alive. A keys session that already idled out stays dead.
    """
    ticket = _ticket()
    if ticket is None:
        return
    now = _now()
    db.session.execute(
        update(SessionKey)
        .where(
            SessionKey.id == ticket.session_id,
            SessionKey.last_used_at > now - _idle_limit(),
            SessionKey.expires_at > now,
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def _log_in_again() -> Response:
    """Only a new login opens the keys again: end this one and send the person there."""
    end_current_staff_session()
    return redirect(url_for("moderation.login"), 303)


def _key_notice() -> str | None:
    """Why this admin or moderator cannot open reports (no key granted yet, or granted after
    this login began); None when the login holds keys."""
    # A damaged ticket counts as held: it idled out or was tampered with, log in again.
    return key_notice(g.staff, login_holds_keys=bool((staff_session() or {}).get("keys")))


def _without_keys(incident: Incident, **kwargs: Any) -> ResponseReturnValue:
    """An action that needs the keys, without them: say exactly why when the login never held
    them (the person stays logged in to read it), else the keys idled out: log in again."""
    notice = _key_notice()
    if notice is None:
        return _log_in_again()
    return _render_case(incident, error=notice, status=409, **kwargs)


# --- The queue -------------------------------------------------------------------------------


@bp.get("/queue")
@requires_role(ADMIN, MODERATOR)
def queue() -> ResponseReturnValue:
    """New and open cases first (``state=open``), filtered, newest first, ``after`` paging."""
    _keep_keys_alive()
    # Only the known names go into the page links (url_for would obey "_scheme" or "_external").
    args: dict[str, Any] = {
        name: request.args[name] for name in FILTER_NAMES if request.args.get(name)
    }
    context: dict[str, Any] = {
        "args": args,
        "counts": cases.state_counts(cap=COUNT_CAP),
        "cap": COUNT_CAP,
        "workers": {worker.id: worker.email for worker in cases.case_workers()},
        "codebook": current_codebook(),
        "lang": g.lang,
        "states": CASE_STATES,
        "page": None,
        "key_notice": _key_notice(),
    }
    form = QueueFilterForm(
        request.args, codebook=context["codebook"], states=CASE_STATES,
        workers=context["workers"],
    )  # fmt: skip
    context["form"] = form
    if not form.validate():
        return render_template("moderation/queue.html", error=first_error(form), **context), 400
    filters, after = form.filters(g.staff)
    page = cases.queue_page(filters, after, PAGE_SIZE)
    next_url = None
    if page.next_after is not None:
        next_url = url_for("moderation.queue", **args, after=page.next_after)
    first_url = url_for("moderation.queue", **args) if after is not None else None
    return render_template(
        "moderation/queue.html",
        **{**context, "page": page, "next_url": next_url, "first_url": first_url},
    )


# --- One case --------------------------------------------------------------------------------


def _incident(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id) if incident_id <= MAX_ID else None
    if incident is None:
        abort(404)
    return incident


def _render_case(
    incident: Incident,
    *,
    opened: cases.OpenedCase | None = None,
    error: str | None = None,
    status: int = 200,
    coding: Mapping[str, list[str]] | None = None,
    texts: Mapping[str, str] | None = None,
    failed: str | None = None,
) -> tuple[str, int]:
    """``failed`` is the id of the control whose form was refused; it points at the message."""
    codebook = current_codebook()
    reporter = cases.reporter_codes(incident, codebook)
    moderator = cases.moderator_codes(incident)
    if coding is None:
        # Start from the moderators' coding, or from the reporter's answers to correct them.
        coding = moderator if incident.coded_on else reporter
    facts = cases.case_facts(incident)
    html = render_template(
        "moderation/case.html",
        incident=incident,
        facts=facts,
        reporter=reporter,
        moderator=moderator,
        coding=coding,
        coded_questions=[codebook.question(question) for question in cases.CODED_QUESTIONS],
        coded_ids=set(cases.CODED_QUESTIONS),
        choice_questions=[q for q in codebook.questions.values() if q.id in reporter],
        sealed_questions=[q for q in codebook.questions.values() if q.sealed],
        codebook=codebook,
        lang=g.lang,
        workers=cases.case_workers(),
        moves=[state for state in STATES if state in cases.TRANSITIONS[incident.state]],
        states=CASE_STATES,
        move_labels=MOVE_LABELS,
        opened=opened,
        error=error,
        notice=DONE.get(request.args.get("done", "")),
        texts=texts or {},
        failed=failed,
        key_notice=_key_notice() if error is None else None,
    )
    return html, status


def _refused(incident: Incident, refused: cases.CaseRefused, **kwargs: Any) -> tuple[str, int]:
    return _render_case(incident, error=refused.message, status=refused.status, **kwargs)


def _done(incident: Incident, what: str) -> Response:
    return redirect(url_for("moderation.case", incident_id=incident.id, done=what), 303)


@bp.get("/cases/<int:incident_id>")
@requires_role(ADMIN, MODERATOR)
def case(incident_id: int) -> ResponseReturnValue:
    """The case with its clear codes; sealed parts only as counts until someone opens them."""
    incident = _incident(incident_id)
    _keep_keys_alive()
    return _render_case(incident)


@bp.post("/cases/<int:incident_id>/open")
@requires_role(ADMIN, MODERATOR)
def case_open(incident_id: int) -> ResponseReturnValue:
    """Unseal the case with this login's keys; each opening is audited."""
    incident = _incident(incident_id)
    keys = _unlocked_keys()
    if keys is None:
        return _without_keys(incident)
    try:
        opened = cases.open_case(incident, by=g.staff, keys=keys)
    except cases.PersonalDataGone as refused:
        return _refused(incident, refused)
    except SealError:
        return _refused(incident, cases.SealedDataUnreadable())
    return _render_case(incident, opened=opened)


@bp.get("/cases/<int:incident_id>/attachments/<int:position>")
@requires_role(ADMIN, MODERATOR)
def case_attachment(incident_id: int, position: int) -> ResponseReturnValue:
    """One image, unsealed and audited, served so that no browser runs or renders it as a page.

    The type comes from the image's own sealed metadata (set when it was re-encoded) and must be
    one of the image types the intake produces; the file name is fixed, never the original.
    """
    incident = _incident(incident_id)
    if position > MAX_ID:
        abort(404)
    keys = _unlocked_keys()
    if keys is None:
        return _log_in_again() if _key_notice() is None else abort(409)
    try:
        image = cases.open_attachment(incident, position, by=g.staff, keys=keys)
    except (cases.PersonalDataGone, cases.AttachmentNotFound):
        abort(404)
    except SealError:
        abort(409)
    extension = cases.SAFE_IMAGE_TYPES.get(image.meta.mime_type)
    if extension is None:  # cannot happen without tampering; then never show it inline
        mime_type, disposition, extension = "application/octet-stream", "attachment", "bin"
    else:
        mime_type, disposition = image.meta.mime_type, "inline"
    response = Response(image.data, mimetype=mime_type)
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="attachment-{position}.{extension}"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = IMAGE_CSP
    return response


@bp.post("/cases/<int:incident_id>/state")
@requires_role(ADMIN, MODERATOR)
def case_state(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    form = StateForm()
    if not form.validate_on_submit():
        return _render_case(incident, error=first_error(form), status=422)
    try:
        cases.move_case(
            incident,
            form.to.data or "",
            by=g.staff,
            today=_today(),
            retention_days=current_app.config["RETENTION_DAYS"],
        )
    except cases.CaseRefused as refused:
        return _refused(incident, refused)
    return _done(incident, "state")


@bp.post("/cases/<int:incident_id>/assign")
@requires_role(ADMIN, MODERATOR)
def case_assign(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _render_case(incident, error=first_error(form), status=422, failed="assignee")
    try:
        cases.assign_case(incident, form.assignee_row, by=g.staff)
    except cases.AssigneeNotAllowed as refused:
        return _refused(incident, refused, failed="assignee")
    return _done(incident, "assign")


@bp.post("/cases/<int:incident_id>/code")
@requires_role(ADMIN, MODERATOR)
def case_code(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    form = coding_form_class(current_codebook(), g.lang)()
    answers = form.answers()
    if not form.validate_on_submit():
        return _render_case(incident, error=first_error(form), status=422, coding=answers)
    try:
        cases.code_case(incident, answers, by=g.staff, today=_today())
    except cases.InvalidCoding as refused:
        return _refused(incident, refused, coding=answers, failed=f"code-{refused.question}")
    return _done(incident, "code")


@bp.post("/cases/<int:incident_id>/notes")
@requires_role(ADMIN, MODERATOR)
def case_notes(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    form = NoteForm()
    text = form.text.data or ""
    keys = _unlocked_keys()
    if keys is None:
        return _without_keys(incident, texts={"note": text})
    if not form.validate_on_submit():
        return _render_case(
            incident, error=first_error(form), status=422, texts={"note": text}, failed="note"
        )
    try:
        cases.add_note(incident, text, by=g.staff, keys=keys, today=_today())
    except cases.TextRefused as refused:
        return _render_case(
            incident, error=refused.message, status=422, texts={"note": text}, failed="note"
        )
    except cases.CaseRefused as refused:
        return _refused(incident, refused, texts={"note": text})
    except SealError:
        return _refused(incident, cases.SealedDataUnreadable(), texts={"note": text})
    return _done(incident, "note")


@bp.post("/cases/<int:incident_id>/duplicate")
@requires_role(ADMIN, MODERATOR)
def case_duplicate(incident_id: int) -> ResponseReturnValue:
    """Link to the original by its case number; an empty number removes the link."""
    incident = _incident(incident_id)
    form = DuplicateForm()
    typed = {"original": (form.original.raw_data or [""])[0]}
    if not form.validate_on_submit():
        return _render_case(
            incident, error=first_error(form), status=422, texts=typed, failed="original"
        )
    try:
        cases.link_duplicate(incident, form.original_case, by=g.staff)
    except cases.DuplicateRefused as refused:
        return _refused(incident, refused, texts=typed, failed="original")
    return _done(incident, "duplicate")


@bp.post("/cases/<int:incident_id>/message")
@requires_role(ADMIN, MODERATOR)
def case_message(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    form = MessageForm()
    text = form.text.data or ""
    keys = _unlocked_keys()
    if keys is None:
        return _without_keys(incident, texts={"message": text})
    if not form.validate_on_submit():
        return _render_case(
            incident, error=first_error(form), status=422, texts={"message": text}, failed="message"
        )
    report = cases.report_of(incident)
    try:
        if report is None:
            raise cases.PersonalDataGone("the case has no report")
        cases.send_to_reporter(report, text, by=g.staff, keys=keys, today=_today())
    except cases.TextRefused as refused:
        return _render_case(
            incident, error=refused.message, status=422, texts={"message": text}, failed="message"
        )
    except cases.CaseRefused as refused:
        return _refused(incident, refused, texts={"message": text})
    except SealError:
        return _refused(incident, cases.SealedDataUnreadable(), texts={"message": text})
    return _done(incident, "message")


@bp.post("/cases/<int:incident_id>/deletion")
@requires_role(ADMIN, MODERATOR)
def case_deletion(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    form = DeletionForm()
    if not form.validate_on_submit():
        return _render_case(incident, error=first_error(form), status=422, failed="confirm")
    try:
        cases.honour_deletion_request(incident, by=g.staff, today=_today())
    except cases.PersonalDataGone as refused:
        return _refused(incident, refused)
    return _done(incident, "deletion")
