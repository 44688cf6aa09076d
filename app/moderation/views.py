"""Staff routes: login with a second factor, logout, the start page. Each names its roles."""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.auth.gate import (
    end_current_staff_session,
    gate,
    requires_role,
    staff_session,
    start_staff_session,
)
from app.crypto.kdf import KdfBusy, KdfParams
from app.crypto.keyring import password_slot_of, unlock_with_password
from app.crypto.sessions import open_unlocked_session
from app.extensions import db, limiter
from app.models import Incident
from app.models.user import ADMIN, MODERATOR, RESEARCHER
from app.moderation import bp
from app.moderation.accounts import LoginRefused, log_out_everywhere
from app.moderation.forms import LoginForm
from app.moderation.key_access import key_notice
from app.moderation.login import check_login
from app.moderation.throttle import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_DAYS,
    TooManyAttempts,
    is_known_device,
    issue_device_cookie,
)
from app.security import forbid_caching

bp.before_request(gate)
bp.after_request(forbid_caching)


def _unlock_keys(user_email: str, password: str) -> str | None:
    """Open the account's key slot into a session keys ticket (admins and moderators)."""
    slot = password_slot_of(user_email)
    if slot is None:
        return None
    unlocked = unlock_with_password(slot, password)
    if not unlocked:
        return None  # a slot not granted yet: the pages say so (``key_access``)
    ticket = open_unlocked_session(
        slot,
        unlocked,
        now=dt.datetime.now(dt.UTC),
        lifetime=dt.timedelta(hours=current_app.config["STAFF_SESSION_HOURS"]),
    )
    return ticket.to_cookie()


def _login_page(
    form: LoginForm, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template("moderation/login.html", form=form, error=error), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login() -> ResponseReturnValue:
    """E-mail, password and second factor in one step, so the password is never kept."""
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, status=422 if form.errors else 200)
    email, password = form.email.data or "", form.password.data or ""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    known_device = is_known_device(request.cookies.get(DEVICE_COOKIE), email, secret)
    try:
        user = check_login(email, password, form.code.data or "", secret=secret,
                           known_device=known_device,
                           params=KdfParams.from_config(current_app.config))  # fmt: skip
    except TooManyAttempts:
        message = _("Für diese Adresse kamen gerade sehr viele Anmeldeversuche. Bitte warten Sie "
                    "eine Minute und versuchen Sie es dann noch einmal.")  # fmt: skip
        return _login_page(form, message, 429)
    except KdfBusy:
        message = _("Gerade melden sich sehr viele Personen an. Bitte versuchen Sie es in einer "
                    "Minute noch einmal.")  # fmt: skip
        return _login_page(form, message, 503)
    except LoginRefused:
        return _login_page(form, _("E-Mail-Adresse, Passwort oder Code stimmen nicht."), 401)
    keys = _unlock_keys(user.email, password) if user.role != RESEARCHER else None
    start_staff_session(user, keys)
    response = redirect(url_for("moderation.home"), 303)
    response.set_cookie(
        DEVICE_COOKIE, issue_device_cookie(user.email, secret),
        max_age=DEVICE_COOKIE_DAYS * 86400, path=bp.url_prefix or "/", httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Strict",
    )  # fmt: skip
    return response


@bp.post("/logout")
@requires_role(ADMIN, MODERATOR, RESEARCHER)
def logout() -> Response:
    end_current_staff_session()
    session.clear()
    return redirect(url_for("moderation.login"), 303)


@bp.post("/logout-everywhere")
@requires_role(ADMIN, MODERATOR, RESEARCHER)
def logout_everywhere() -> Response:
    log_out_everywhere(g.staff)
    session.clear()
    return redirect(url_for("moderation.login"), 303)


@bp.get("/")
@requires_role(ADMIN, MODERATOR, RESEARCHER)
def home() -> str:
    counts: dict[str, int] = {}
    if g.staff.role in (ADMIN, MODERATOR):
        rows = db.session.execute(select(Incident.state, func.count(Incident.id)).group_by(
            Incident.state))  # fmt: skip
        counts = {state: int(count) for state, count in rows}
    holds_keys = bool((staff_session() or {}).get("keys"))
    return render_template(
        "moderation/home.html",
        counts=counts,
        confirmed=request.args.get("confirmed") == "1",
        key_notice=key_notice(g.staff, login_holds_keys=holds_keys),
    )
