"""The one-time token each report form carries: it makes a repeated POST harmless, and its
signed issue time lets the server refuse forms sent faster than a person can fill them."""

from __future__ import annotations

import secrets
import time

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "meldeportal/report-form"


def issue_form_token(secret_key: str, now: float | None = None) -> str:
    serializer = URLSafeSerializer(secret_key, salt=SALT)
    issued = int(time.time() if now is None else now)
    return serializer.dumps({"t": secrets.token_urlsafe(24), "at": issued})


def read_form_token(secret_key: str, signed: str | None) -> tuple[str, int] | None:
    """(token, issue time) of a genuine form token; None for anything else."""
    if not signed:
        return None
    try:
        data = URLSafeSerializer(secret_key, salt=SALT).loads(signed)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    token, issued = data.get("t"), data.get("at")
    if not isinstance(token, str) or not isinstance(issued, int):
        return None
    return token, issued
