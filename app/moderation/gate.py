"""Deny by default: one gate in front of every staff route (SecureDrop's journalist gate).

A view admits only the roles it names with ``@requires_role``; a view that names none admits
nobody. The gate also enforces the idle and absolute session limits and "log out everywhere".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from app.extensions import db
from app.i18n import preferred_language
from app.models import User

# The only doors without a login: the login itself and an invitation link (its token is the key).
PUBLIC_ENDPOINTS = frozenset({"moderation.login", "moderation.invitation"})
SESSION_KEY = "staff"

View = TypeVar("View", bound=Callable[..., Any])


def requires_role(*roles: str) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return mark


def start_staff_session(user: User, keys_cookie: str | None) -> None:
    """A fresh session (no fixation): who, which generation, when; the keys ticket if any."""
    session.clear()
    now = int(time.time())
    session[SESSION_KEY] = {
        "user": user.id,
        "generation": user.session_generation,
        "login_at": now,
        "seen_at": now,
        "keys": keys_cookie,
    }


def staff_session() -> dict[str, Any] | None:
    data = session.get(SESSION_KEY)
    return data if isinstance(data, dict) else None


def current_staff() -> User | None:
    """The logged-in account, or None when absent, idle, expired or logged out everywhere."""
    data = staff_session()
    if data is None:
        return None
    now = int(time.time())
    config = current_app.config
    if (
        now - int(data.get("seen_at", 0)) > config["STAFF_IDLE_MINUTES"] * 60
        or now - int(data.get("login_at", 0)) > config["STAFF_SESSION_HOURS"] * 3600
    ):
        return None
    user = db.session.get(User, data.get("user"))
    if user is None or not user.active or user.session_generation != data.get("generation"):
        return None
    session[SESSION_KEY] = {**data, "seen_at": now}
    return user


def gate() -> Response | None:
    g.lang = preferred_language()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = current_staff()
    if user is None:
        session.pop(SESSION_KEY, None)
        return redirect(url_for("moderation.login"))
    g.staff = user
    g.lang = user.language
    view = current_app.view_functions.get(request.endpoint or "")
    allowed: frozenset[str] = getattr(view, "allowed_roles", frozenset())
    if user.role not in allowed:
        abort(403)
    return None
