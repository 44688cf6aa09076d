"""Partner API tokens: who may send reports by machine, kept only as a hash of the token."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class ApiToken(Base):
    """One bearer token of a partner (a counselling office), e.g. ``mp_ab12cd…``.

    The token itself is shown once and never stored: ``token_hash`` is its SHA-256, ``prefix``
    its first characters so operators can tell tokens apart. ``scopes`` is a space-separated
    list such as ``"submit"``. The token is refused once revoked and from ``expires_on`` on.
    ``last_used_on`` is the last day a request with it succeeded: a date only, because an exact
    time could be matched against a report or a network log.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    scopes: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)
    last_used_on: Mapped[dt.date | None] = mapped_column(Date)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list

    def is_usable_on(self, day: dt.date) -> bool:
        """Not revoked (whatever the date) and not expired on ``day``."""
        if self.revoked_on is not None:
            return False
        return self.expires_on is None or day < self.expires_on
