"""Inviting staff: a one-time link, valid for a few days, that lets a person set their password.

Only a hash of the link's token is stored. An invited admin or moderator starts with an empty
key slot; the next key holder who opens the accounts page grants it the organisation key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select

from app.audit import AuditTag, record_event
from app.config import DEFAULT_LANGUAGE
from app.crypto.kdf import KdfParams
from app.extensions import db
from app.models import Invitation, User
from app.models.user import ROLES
from app.moderation.accounts import (
    TAKEN_EMAIL,
    UNKNOWN_ROLE,
    AccountError,
    Enrolment,
    create_user,
    reset_credentials,
)

INVITATION_LIFETIME = dt.timedelta(days=3)


def _hash(token: str) -> str:
    return hashlib.sha256(b"meldeportal/invitation\x00" + token.encode()).hexdigest()


def invite(email: str, role: str, *, by: User, now: dt.datetime) -> str:
    """Create an invitation and return its token (shown once, for the link).

    Raises:
        AccountError: unknown role, or an account with this e-mail exists.
    """
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.", message=UNKNOWN_ROLE)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("An account with this e-mail address exists.", message=TAKEN_EMAIL)
    return _new_link(email, role, by=by, now=now)


def invite_to_reset(user: User, *, by: User, now: dt.datetime) -> str:
    """A one-time link with which ``user`` sets a new password and second factor."""
    return _new_link(user.email, user.role, by=by, now=now)


def _new_link(email: str, role: str, *, by: User, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=_hash(token), email=email, role=role, invited_by=by.id,
        expires_at=now + INVITATION_LIFETIME,
    )  # fmt: skip
    db.session.add(invitation)
    db.session.flush()
    record_event(AuditTag.INVITATION_CREATE, f"invitation for role {role}", actor_id=by.id,
                 target_type="invitation", target_id=invitation.id)  # fmt: skip
    return token


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def open_invitation(token: str, now: dt.datetime) -> Invitation | None:
    """The invitation behind a link, if it is unused and not expired."""
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.token_hash == _hash(token))
    ).first()
    if invitation is None or invitation.used_on is not None:
        return None
    if _aware(invitation.expires_at) <= now:
        return None
    return invitation


def accept_invitation(
    invitation: Invitation,
    password: str,
    *,
    now: dt.datetime,
    params: KdfParams,
    language: str = DEFAULT_LANGUAGE,
) -> Enrolment:
    """Create the invited account (key holders with a pending slot), or reset the existing
    one when the link was a reset link, and use up the link.

    ``language``: the new account's interface language (the one the invitation was read in).

    Raises:
        AccountError: for a weak password.
    """
    existing = db.session.scalars(select(User).where(User.email == invitation.email)).first()
    if existing is not None:
        enrolment = reset_credentials(existing, password, today=now.date(), params=params)
        invitation.used_on = now.date()
        return enrolment
    enrolment = create_user(
        invitation.email, invitation.role, password, today=now.date(), params=params,
        actor_id=invitation.invited_by, pending_slot=True, language=language,
    )  # fmt: skip
    invitation.used_on = now.date()
    return enrolment
