"""Admin pages (accounts, invitations, key grants, API tokens, audit log) and own settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.api import tokens as api_tokens
from app.auth.gate import requires_role, staff_session
from app.crypto.errors import SealError, SessionLocked
from app.crypto.kdf import KdfParams
from app.crypto.keyring import grant_pending_slots, pending_slots
from app.crypto.sessions import SessionTicket, session_keys
from app.extensions import db
from app.i18n import language_codes, languages
from app.models import ApiToken, AuditEvent, User
from app.models.user import ADMIN, MODERATOR, RESEARCHER, ROLES
from app.moderation import bp
from app.moderation.accounts import AccountError, remove_user
from app.moderation.forms import (
    AccountForm,
    AuditFilterForm,
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
from app.research.budget import tables_today, token_requester, user_requester

AUDIT_PAGE = 50


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    return _now().date()


def _accounts_page(**context: Any) -> str:
    users = db.session.scalars(select(User).order_by(User.email)).all()
    pending = {slot.account_id for slot in pending_slots()}
    return render_template(
        "moderation/admin_accounts.html", users=users, pending=pending, roles=ROLES,
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
                               invalid=next(iter(form.errors))), 400  # fmt: skip
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
                           next_after=next_after)  # fmt: skip


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
    """Open to anyone holding the link (the gate admits it): set a password, enrol a factor."""
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
        enrolment = accept_invitation(found, password, now=_now(),
                                      params=KdfParams.from_config(current_app.config))  # fmt: skip
    except AccountError as error:
        return render_template("moderation/invitation.html", invitation=found,
                               error=error.message), 422  # fmt: skip
    return render_template("moderation/invitation.html", enrolment=enrolment)
