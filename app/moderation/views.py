"""Staff routes: login with a second factor, logout, the start page. Each names its roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, g, redirect, render_template, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.crypto.keyring import password_slot_of, unlock_with_password
from app.crypto.sessions import SessionTicket, end_session, open_unlocked_session
from app.extensions import db, limiter
from app.models import Incident
from app.models.user import ADMIN, MODERATOR, RESEARCHER
from app.moderation import bp
from app.moderation.accounts import AccountLocked, LoginRefused, authenticate, log_out_everywhere
from app.moderation.forms import LoginForm
from app.moderation.gate import gate, requires_role, staff_session, start_staff_session
from app.security import forbid_caching

bp.before_request(gate)
bp.after_request(forbid_caching)


def _unlock_keys(user_email: str, password: str) -> str | None:
    """Open the account's key slot into a session keys ticket (admins and moderators)."""
    slot = password_slot_of(user_email)
    if slot is None:
        return None
    ticket = open_unlocked_session(
        slot,
        unlock_with_password(slot, password),
        now=dt.datetime.now(dt.UTC),
        lifetime=dt.timedelta(hours=current_app.config["STAFF_SESSION_HOURS"]),
    )
    return ticket.to_cookie()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login() -> Any:
    """E-mail, password and second factor in one step, so the password is never kept."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("moderation/login.html", form=form), 422 if form.errors else 200
    try:
        user = authenticate(form.email.data or "", form.password.data or "", form.code.data or "")
    except AccountLocked:
        message = _("Zu viele Fehlversuche: das Konto ist für 15 Minuten gesperrt. Eine Person "
                    "mit Admin-Rechten kann es früher entsperren.")  # fmt: skip
        db.session.commit()  # the failed attempts must stay counted
        return render_template("moderation/login.html", form=form, error=message), 403
    except LoginRefused:
        db.session.commit()  # count the failure, although the request answers 401
        message = _("E-Mail-Adresse, Passwort oder Code stimmen nicht.")
        return render_template("moderation/login.html", form=form, error=message), 401
    keys = _unlock_keys(user.email, form.password.data or "") if user.role != RESEARCHER else None
    start_staff_session(user, keys)
    return redirect(url_for("moderation.home"), 303)


@bp.post("/logout")
@requires_role(ADMIN, MODERATOR, RESEARCHER)
def logout() -> Response:
    data = staff_session() or {}
    if data.get("keys"):
        end_session(SessionTicket.from_cookie(data["keys"]).session_id)
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
    return render_template("moderation/home.html", counts=counts)
