"""Admin pages (accounts, invitations, key grants, API tokens, audit log) and own settings."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.api import tokens as api_tokens
from app.auth.gate import requires_role, staff_session, start_staff_session
from app.crypto.errors import SealError, SessionLocked
from app.crypto.kdf import KdfParams
from app.crypto.keyring import grant_pending_slots, pending_slots
from app.crypto.sessions import SessionTicket, session_keys
from app.extensions import db, limiter
from app.i18n import language_codes, languages
from app.models import ApiToken, AuditEvent, User
from app.models.user import ADMIN, MODERATOR, RESEARCHER, ROLES
from app.moderation import bp
from app.moderation.accounts import (
    AccountError,
    Enrolment,
    account_state,
    confirm_enrolment,
    pending_enrolment,
    remove_user,
)
from app.moderation.forms import (
    AccountForm,
    AuditFilterForm,
    EnrolmentConfirmForm,
    InvitationForm,
    PasswordChoiceForm,
    first_error,
)
from app.moderation.invitations import (
    accept_invitation,
    invite,
    invite_to_reset,
    open_invitation,
)
from app.moderation.labels import AUDIT_EVENTS, AUDIT_SUBJECTS, GRANT_KEYS_BUTTON, event_details
from app.moderation.qr import qr_svg
from app.research.budget import tables_today, token_requester, user_requester

AUDIT_PAGE = 50
ENROLMENT_KEY = "enrolment"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    return _now().date()


def _accounts_page(**context: Any) -> str:
    users = db.session.scalars(select(User).order_by(User.email)).all()
    pending = {slot.account_id for slot in pending_slots()}
    states = {user.id: account_state(user, slot_pending=user.id in pending) for user in users}
    return render_template(
        "moderation/admin_accounts.html", users=users, pending=pending, roles=ROLES,
        account_states=states, grant_keys_button=GRANT_KEYS_BUTTON,
        tables_today=tables_today(_today()), requester=user_requester,
        per_day=current_app.config["STATISTICS_TABLES_PER_DAY"], **context,
    )  # fmt: skip


@bp.get("/admin/accounts")
@requires_role(ADMIN)
def accounts() -> ResponseReturnValue:
    return _accounts_page()


@bp.post("/admin/invitations")
@requires_role(ADMIN)
def create_invitation() -> ResponseReturnValue:
    form = InvitationForm()
    if not form.validate_on_submit():
        return _accounts_page(error=first_error(form), invitation_form=form), 422
    try:
        token = invite(form.email.data or "", form.role.data or "", by=g.staff, now=_now())
    except AccountError as error:
        return _accounts_page(error=error.message, invitation_form=form), 422
    link = url_for("moderation.invitation", token=token, _external=True)
    return _accounts_page(invitation_link=link)


@bp.post("/admin/accounts/<int:user_id>/reset")
@requires_role(ADMIN)
def reset(user_id: int) -> ResponseReturnValue:
    """A one-time link for a person who lost their password or second factor."""
    user = db.session.get(User, user_id) or abort(404)
    token = invite_to_reset(user, by=g.staff, now=_now())
    link = url_for("moderation.invitation", token=token, _external=True)
    return _accounts_page(invitation_link=link)


@bp.post("/admin/accounts/<int:user_id>/remove")
@requires_role(ADMIN)
def remove(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id) or abort(404)
    try:
        remove_user(user, actor_id=g.staff.id)
    except AccountError as error:
        return _accounts_page(error=error.message), 422
    return redirect(url_for("moderation.accounts"), 303)


@bp.post("/admin/keys/grant")
@requires_role(ADMIN)
def grant_keys() -> ResponseReturnValue:
    """Give invited key holders the organisation key, from this admin's unlocked session."""
    ticket = (staff_session() or {}).get("keys")
    try:
        unlocked = session_keys(
            SessionTicket.from_cookie(ticket or ""), now=_now(),
            idle_timeout=dt.timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"]),
        )  # fmt: skip
        granted = grant_pending_slots(unlocked, actor_id=g.staff.id)
    except (SessionLocked, SealError):
        return _accounts_page(
            error=_("Ihre Schlüssel sind nicht entsperrt. Bitte neu anmelden.")
        ), 409
    return _accounts_page(granted=granted)


@bp.get("/admin/tokens")
@requires_role(ADMIN)
def tokens() -> str:
    """Every partner API token with its prefix, scopes, dates and state; never the token."""
    return render_template(
        "moderation/admin_tokens.html",
        tokens=api_tokens.all_tokens(),
        today=_today(),
        revoked=request.args.get("revoked", type=int),
        tables_today=tables_today(_today()),
        requester=token_requester,
        per_day=current_app.config["STATISTICS_TABLES_PER_DAY"],
    )


@bp.post("/admin/tokens/<int:token_id>/revoke")
@requires_role(ADMIN)
def revoke_token(token_id: int) -> Response:
    """Refuse a token from now on; a second revocation changes nothing."""
    token = db.session.get(ApiToken, token_id) or abort(404)
    api_tokens.revoke_token(token, _today(), by=g.staff)
    return redirect(url_for("moderation.tokens", revoked=token.id), 303)


@bp.get("/admin/audit")
@requires_role(ADMIN)
def audit_log() -> ResponseReturnValue:
    """The audit trail, newest first, filtered by tag prefix, actor or target; keyset pages."""
    form = AuditFilterForm(request.args)
    tag, target = form.tag.data or "", form.target_type.data or ""
    filters = {"tag": tag, "actor": form.actor.data or "", "target_type": target}
    if not form.validate():  # ids beyond the id range too: they would overflow SQLite's integers
        return render_template("moderation/admin_audit.html", events=[], filters=filters,
                               next_after=None, error=first_error(form),
                               invalid=next(iter(form.errors)), **_audit_words()), 400  # fmt: skip
    actor, after = form.actor_id, form.after_id
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE)
    if tag:
        query = query.where(AuditEvent.tag.startswith(tag, autoescape=True))
    if actor is not None:
        query = query.where(AuditEvent.actor_id == actor)
    if target:
        query = query.where(AuditEvent.target_type == target)
    if after is not None:
        query = query.where(AuditEvent.id < after)
    events = db.session.scalars(query).all()
    next_after = events[-1].id if len(events) == AUDIT_PAGE else None
    return render_template("moderation/admin_audit.html", events=events, filters=filters,
                           next_after=next_after, **_audit_words())  # fmt: skip


def _audit_words() -> dict[str, Any]:
    return {
        "subjects": AUDIT_SUBJECTS,
        "events_named": AUDIT_EVENTS,
        "event_details": event_details,
    }


@bp.route("/account", methods=["GET", "POST"])
@requires_role(ADMIN, MODERATOR, RESEARCHER)
def account() -> ResponseReturnValue:
    """Each person's own settings: interface language and content-free notifications."""
    user: User = g.staff
    # A form without the language field keeps the language the person has.
    form = AccountForm(languages=language_codes(), data={"language": user.language})
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)  # only a tampered form offers another language
        user.language = form.language.data or user.language
        user.notify_new_reports = form.notify.data and user.role != RESEARCHER
        return redirect(url_for("moderation.account", saved=1), 303)
    return render_template(
        "moderation/account.html", saved=request.args.get("saved"), languages=languages()
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> ResponseReturnValue:
    """Open to anyone holding the link (the gate admits it): set a password, then enrol the
    authenticator app on the next page."""
    found = open_invitation(token[:100], _now())
    if found is None:
        return render_template("moderation/invitation.html", invalid=True), 404
    if request.method != "POST":  # GET, and HEAD like it
        return render_template("moderation/invitation.html", invitation=found)
    form = PasswordChoiceForm()
    if not form.validate_on_submit():
        return render_template("moderation/invitation.html", invitation=found,
                               error=first_error(form)), 422  # fmt: skip
    password = form.password.data or ""
    try:
        # The new account speaks the language the invitation was read in.
        enrolment = accept_invitation(found, password, now=_now(), language=g.lang,
                                      params=KdfParams.from_config(current_app.config))  # fmt: skip
    except AccountError as error:
        return render_template("moderation/invitation.html", invitation=found,
                               error=error.message), 422  # fmt: skip
    # The cookie half of the enrolment ticket: this browser, and only it, shows the QR code
    # again and confirms it (the server's half is erased at the confirmation).
    session.clear()
    session[ENROLMENT_KEY] = {
        "user": enrolment.user.id,
        "ticket": base64.b64encode(enrolment.ticket or b"").decode(),
    }
    return redirect(url_for("moderation.enrolment"), 303)


def _pending_enrolment() -> Enrolment | None:
    data = session.get(ENROLMENT_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = db.session.get(User, data["user"])
    try:
        ticket = base64.b64decode(str(data.get("ticket", "")), validate=True)
    except ValueError:
        return None
    return pending_enrolment(user, ticket) if user is not None and ticket else None


def _enrolment_page(enrolment: Enrolment, **context: Any) -> str:
    name = _("QR-Code zum Einrichten der Authenticator-App für %(email)s",
             email=enrolment.user.email)  # fmt: skip
    return render_template("moderation/enrolment.html", enrolment=enrolment,
                           qr=qr_svg(enrolment.provisioning_uri, name), **context)  # fmt: skip


@bp.route("/enrolment", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def enrolment() -> ResponseReturnValue:
    """The new second factor: QR code, secret and recovery codes, and one current code to
    confirm it. Open without a login (the gate admits it); the enrolment ticket in this
    browser's cookie is the key. The confirmation starts the person's first session."""
    pending = _pending_enrolment()
    if pending is None:
        status = 404 if request.method != "POST" else 409
        return render_template("moderation/enrolment.html", gone=True), status
    if request.method != "POST":
        return _enrolment_page(pending)
    form = EnrolmentConfirmForm()
    typed = form.code.data or ""
    if not form.validate_on_submit():
        return _enrolment_page(pending, error=first_error(form), typed=typed), 422
    user = pending.user
    try:
        confirm_enrolment(user, pending.ticket or b"", typed, now=_now())
    except AccountError as error:
        return _enrolment_page(pending, error=error.message, typed=typed), 422
    # Key holders' slots are pending after an invitation or a reset: no keys to open here.
    start_staff_session(user, None)
    return redirect(url_for("moderation.home", confirmed=1), 303)
