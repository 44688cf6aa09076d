"""The ``desk`` fixture of the case service tests, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app.crypto import keyring
from app.extensions import db
from app.models.user import MODERATOR
from tests.factories import TODAY
from tests.integration.moderation.cases.casework import Desk, user
from tests.staff import make_staff


@pytest.fixture
def desk(db_app: Flask) -> Iterator[Desk]:
    with db_app.app_context():
        recovery = keyring.initialise_keys(TODAY)
        db.session.commit()
        moderator = user(make_staff(MODERATOR, recovery).email)
        yield Desk(moderator, keyring.unlock_with_recovery(recovery), recovery)
