"""Sealed server-side sessions: a row the database keeps and only the browser's secret opens.

One mechanism serves two kinds. The staff keys session holds the organisation keys a login
opened; the reporter's status session holds which report it is for and the key its receipt code
derived. Either is sealed with AES-256-GCM under a random secret that is handed to the browser
(inside a cookie) and never stored on the server. The row alone opens nothing: logout deletes it,
expiry makes it refuse, and a server restart changes nothing because the server never had the
secret.

Layout: version ‖ nonce ‖ ciphertext; the associated data names the kind, the version and the
row's id, so a row cannot be opened as another kind, version or row.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete

from app.crypto.envelope import KEY_BYTES, NONCE_BYTES
from app.crypto.errors import SessionLocked
from app.crypto.keyring import UnlockedKeys
from app.crypto.keys import private_bytes
from app.extensions import db
from app.models import KeySlot, SessionKey

SESSION_V1 = 1
STAFF_KEYS, STATUS = "session", "status"  # the kinds; "session" is the staff keys' historic name


@dataclass(frozen=True)
class SessionTicket:
    """What the browser keeps: the row's id and the secret that opens it. Never logged."""

    session_id: str
    secret: bytes

    def to_cookie(self) -> str:
        return f"{self.session_id}.{base64.urlsafe_b64encode(self.secret).decode()}"

    @classmethod
    def from_cookie(cls, value: str) -> SessionTicket:
        """Raises: SessionLocked when the value is not a ticket."""
        try:
            session_id, secret = value.split(".", 1)
            raw = base64.urlsafe_b64decode(secret.encode())
        except (ValueError, TypeError):
            raise SessionLocked("not a session ticket") from None
        if len(raw) != KEY_BYTES or not session_id:
            raise SessionLocked("not a session ticket")
        return cls(session_id, raw)

    def __repr__(self) -> str:
        return "SessionTicket(<hidden>)"


def new_session_secret() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _aad(kind: str, session_id: str) -> bytes:
    return b"meldeportal/%s\x00%d\x00%s" % (kind.encode(), SESSION_V1, session_id.encode())


def seal_session(kind: str, session_id: str, secret: bytes, payload: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(secret).encrypt(nonce, payload, _aad(kind, session_id))
    return bytes([SESSION_V1]) + nonce + sealed


def open_session(kind: str, session_id: str, secret: bytes, sealed: bytes) -> bytes:
    """The payload of a sealed session row.

    Raises:
        SessionLocked: when the secret, the kind, the id or the version does not fit.
    """
    if sealed[:1] != bytes([SESSION_V1]):
        raise SessionLocked("unknown session version")
    try:
        return AESGCM(secret).decrypt(
            sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], _aad(kind, session_id)
        )
    except (InvalidTag, ValueError):  # ValueError: a secret of the wrong length
        raise SessionLocked("the session secret does not fit") from None


def open_unlocked_session(
    slot: KeySlot, unlocked: UnlockedKeys, *, now: dt.datetime, lifetime: dt.timedelta
) -> SessionTicket:
    """Keep ``unlocked`` for this login until ``now + lifetime`` (the absolute limit)."""
    ticket = SessionTicket(secrets.token_urlsafe(32), new_session_secret())
    payload = json.dumps(
        {str(key_id): base64.b64encode(private_bytes(key)).decode() for key_id, key in
         unlocked.items()}
    ).encode()  # fmt: skip
    sealed = seal_session(STAFF_KEYS, ticket.session_id, ticket.secret, payload)
    db.session.add(
        SessionKey(
            id=ticket.session_id,
            slot_id=slot.id,
            sealed_keys=sealed,
            created_at=now,
            last_used_at=now,
            expires_at=now + lifetime,
        )
    )
    return ticket


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def session_keys(
    ticket: SessionTicket, *, now: dt.datetime, idle_timeout: dt.timedelta
) -> UnlockedKeys:
    """The organisation keys of a live session; touching it keeps it from idling out.

    Raises:
        SessionLocked: when the session is gone, expired, idle too long, or the secret is wrong.
    """
    row = db.session.get(SessionKey, ticket.session_id)
    if row is None:
        raise SessionLocked("the session has ended")
    if now >= _aware(row.expires_at) or now - _aware(row.last_used_at) >= idle_timeout:
        db.session.delete(row)
        raise SessionLocked("the session has expired")
    payload = open_session(STAFF_KEYS, row.id, ticket.secret, row.sealed_keys)
    row.last_used_at = now
    keys = json.loads(payload)
    return UnlockedKeys(
        {
            int(key_id): X25519PrivateKey.from_private_bytes(base64.b64decode(raw))
            for key_id, raw in keys.items()
        }
    )


def end_session(session_id: str) -> None:
    db.session.execute(delete(SessionKey).where(SessionKey.id == session_id))


def end_sessions_of_slot(slot_id: int) -> None:
    """Logout everywhere for one holder."""
    db.session.execute(delete(SessionKey).where(SessionKey.slot_id == slot_id))


def purge_expired_sessions(now: dt.datetime) -> int:
    result = db.session.execute(delete(SessionKey).where(SessionKey.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]
