"""Partner API tokens: made once, shown once, kept only as a hash, checked on every API call.

A token is ``mp_`` and 32 random bytes from ``secrets`` (URL-safe Base64). With that much
randomness a plain SHA-256 is enough to store it: there is nothing to guess, so no slow,
salted password hash is needed, and the hash can be looked up directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import select

from app.audit import AuditTag, record_event
from app.extensions import db
from app.models import ApiToken, User

TOKEN_PREFIX = "mp_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for
SUBMIT = "submit"
STATISTICS = "statistics"
SCOPES = (SUBMIT, STATISTICS)
# "mp_" and six characters: enough to tell tokens apart in a list, far too few to guess one.
SHOWN_PREFIX_LENGTH = 9
# A made token has 46 characters; anything much longer is junk and is not even hashed.
MAX_PRESENTED_LENGTH = 100
MAX_NAME_LENGTH = 120


class InvalidTokenRequest(ValueError):
    """A token cannot be made as asked; the message says why."""


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and found."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = set(scopes)
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise InvalidTokenRequest(f"unknown scopes {unknown}; use {', '.join(SCOPES)}")
    if not chosen:
        raise InvalidTokenRequest("a token needs at least one scope")
    return [scope for scope in SCOPES if scope in chosen]


def create_token(
    name: str, scopes: Iterable[str], *, today: dt.date, expires_on: dt.date | None = None
) -> tuple[ApiToken, str]:
    """Make a token for the partner ``name`` and add it to the session (the caller commits).

    Guarantees: only the token's hash and its first characters are stored; the audit event
    ``api:token:create`` names the token's id, name and scopes, never the token.

    Args:
        name: who holds the token, e.g. the counselling office (at most 120 characters).
        scopes: what the token may do, from ``SCOPES``.
        today: the day of creation.
        expires_on: the first day on which the token is refused; None for no expiry.

    Returns:
        The stored row and the token text — the only time the text exists.

    Raises:
        InvalidTokenRequest: for an empty or overlong name, unknown or no scopes, or an expiry
            that is not after ``today``.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidTokenRequest(f"the name needs 1 to {MAX_NAME_LENGTH} printable characters")
    scope_list = _clean_scopes(scopes)
    if expires_on is not None and expires_on <= today:
        raise InvalidTokenRequest("the expiry date must lie after today")
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        scopes=" ".join(scope_list),
        token_hash=hash_token(text),
        prefix=text[:SHOWN_PREFIX_LENGTH],
        created_on=today,
        expires_on=expires_on,
    )
    db.session.add(token)
    db.session.flush()  # the id goes into the audit event
    record_event(
        AuditTag.API_TOKEN_CREATE,
        f"API token {token.id} created for {name!r}",
        target_type="api_token",
        target_id=token.id,
        details={
            "name": name,
            "scopes": scope_list,
            "expires_on": expires_on.isoformat() if expires_on else None,
        },
    )
    return token, text


def find_valid_token(presented: str, scope: str, today: dt.date) -> ApiToken | None:
    """The stored token for a presented token text, if it may be used for ``scope`` today.

    Refused (None) alike: unknown, malformed, revoked, expired, or lacking the scope — the
    caller cannot tell which, and neither can whoever holds the text. A token that is accepted
    gets ``last_used_on = today`` (a date, never a time), which lands only if the request
    commits. No constant-time comparison is needed: the lookup is by hash.
    """
    if (
        not presented.startswith(TOKEN_PREFIX)
        or len(presented) > MAX_PRESENTED_LENGTH
        or not presented.isascii()
    ):
        return None
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(presented))
    ).one_or_none()
    if token is None or not token.is_usable_on(today) or not token.has_scope(scope):
        return None
    if token.last_used_on != today:
        token.last_used_on = today
    return token


def revoke_token(token: ApiToken, today: dt.date, *, by: User | None = None) -> bool:
    """Refuse ``token`` from now on (the caller commits).

    Guarantee: revoking is final. A second revocation keeps the first date and writes no
    second audit event. The audit event ``api:token:revoke`` names ``by`` as its actor: the
    admin who revoked the token in the staff pages, or nobody for the operator's command.

    Returns:
        True if the token was revoked now, False if it already was.
    """
    if token.revoked_on is not None:
        return False
    token.revoked_on = today
    record_event(
        AuditTag.API_TOKEN_REVOKE,
        f"API token {token.id} of {token.name!r} revoked",
        actor_id=by.id if by is not None else None,
        target_type="api_token",
        target_id=token.id,
    )
    return True


def all_tokens() -> Sequence[ApiToken]:
    """Every token, oldest first, revoked and expired ones included (for the operator's list)."""
    return db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
