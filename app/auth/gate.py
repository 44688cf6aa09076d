"""Deny by default: one gate in front of every staff route (SecureDrop's journalist gate).

A view admits only the roles it names with ``@requires_role``; a view that names none admits
nobody. Sessions live on the server (``staff_sessions``): the gate asks it on every request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from app.auth.staff_sessions import end_staff_session, open_staff_session, staff_of_session
from app.crypto.errors import SessionLocked
from app.crypto.sessions import SessionTicket, end_session
from app.i18n import language_codes, preferred_language
from app.models import User

# The only doors without a login: the login itself, an invitation link (its token is the key)
# and the enrolment that follows it (the enrolment ticket in the cookie is the key).
PUBLIC_ENDPOINTS = frozenset({"moderation.login", "moderation.invitation", "moderation.enrolment"})
SESSION_KEY = "staff"

View = TypeVar("View", bound=Callable[..., Any])


def requires_role(*roles: str) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return mark


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start_staff_session(user: User, keys_cookie: str | None) -> None:
    """A fresh session (no fixation), held on the server; the cookie keeps only its token."""
    session.clear()
    token = open_staff_session(
        user, now=_now(), lifetime=dt.timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    )
    session[SESSION_KEY] = {"token": token, "keys": keys_cookie}


def staff_session() -> dict[str, Any] | None:
    data = session.get(SESSION_KEY)
    return data if isinstance(data, dict) else None


def session_token() -> str:
    return str((staff_session() or {}).get("token") or "")


def end_current_staff_session() -> None:
    """This login ends on the server (and its unlocked keys with it) and leaves the cookie."""
    data = staff_session() or {}
    end_staff_session(session_token())
    if data.get("keys"):
        try:
            end_session(SessionTicket.from_cookie(str(data["keys"])).session_id)
        except SessionLocked:
            pass  # a damaged ticket opens nothing anyway
    session.pop(SESSION_KEY, None)


def current_staff() -> User | None:
    """The logged-in account, or None when the server has no live session for this cookie."""
    idle = dt.timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])
    return staff_of_session(session_token(), now=_now(), idle_timeout=idle)


def gate() -> Response | None:
    g.lang = preferred_language()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = current_staff()
    if user is None:
        end_current_staff_session()
        return redirect(url_for("moderation.login"))
    g.staff = user
    if user.language in language_codes():  # else a language since removed: the browser's
        g.lang = user.language
    view = current_app.view_functions.get(request.endpoint or "")
    allowed: frozenset[str] = getattr(view, "allowed_roles", frozenset())
    if user.role not in allowed:
        abort(403)
    return None
