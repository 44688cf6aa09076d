"""The development key's recovery key: kept in the instance folder by the development server only,
and taken from there by `flask users create` in development only."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select

from app.config import DEVELOPMENT_RECOVERY_FILE, read_development_recovery_key
from app.crypto import credentials, keyring
from app.extensions import db
from app.models import KeySlot
from app.startup import prepare_to_serve
from tests.conftest import AppFactory

CHEAP = {"SLOT_KDF_MEMORY_KIB": 1024, "SLOT_KDF_ITERATIONS": 1, "SLOT_KDF_LANES": 1}
PASSWORD = "a long enough password"
RECOVERY = re.compile(r"^\s+((?:[0-9A-Z]{4}-){12}[0-9A-Z]{4})$", re.MULTILINE)


@pytest.fixture
def fresh_app(make_app: AppFactory, database_url: str) -> Iterator[Flask]:
    app = make_app(DATABASE_URL=database_url, **CHEAP)
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def kept_file(app: Flask) -> Path:
    return Path(app.instance_path) / DEVELOPMENT_RECOVERY_FILE


def test_development_keeps_the_announced_recovery_key_for_its_owner(fresh_app: Flask) -> None:
    fresh_app.config["ENV_NAME"] = "development"
    stale = kept_file(fresh_app)
    stale.write_text("OLD-KEY-OF-A-DELETED-DATABASE\n")  # the database was reset since
    said: list[str] = []
    prepare_to_serve(fresh_app, said.append)
    match = RECOVERY.search(said[0])
    assert match
    assert str(stale) in said[0]
    assert read_development_recovery_key(fresh_app.instance_path) == match.group(1)
    assert stat.S_IMODE(stale.stat().st_mode) == 0o600
    with fresh_app.app_context():
        keyring.unlock_with_recovery(match.group(1))  # it is this key's
    prepare_to_serve(fresh_app, said.append)  # a second start leaves the file as it is
    assert read_development_recovery_key(fresh_app.instance_path) == match.group(1)


def test_a_real_installation_never_writes_its_recovery_key_to_disk(fresh_app: Flask) -> None:
    fresh_app.config["ENV_NAME"] = "production"
    before = sorted(Path(fresh_app.instance_path).iterdir())
    result = fresh_app.test_cli_runner().invoke(args=["keys", "init"])
    assert result.exit_code == 0, result.output
    code = RECOVERY.search(result.output)
    assert code
    prepare_to_serve(fresh_app)
    after = sorted(Path(fresh_app.instance_path).iterdir())
    assert not kept_file(fresh_app).exists()
    for path in after:
        if path.is_file():
            data = path.read_bytes()
            assert code.group(1).encode() not in data
            assert code.group(1).replace("-", "").encode() not in data
    assert [p for p in after if p not in before and not p.name.startswith("meldeportal")] == []


def test_users_create_takes_the_kept_key_in_development_only(
    fresh_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_app.config["ENV_NAME"] = "development"
    prepare_to_serve(fresh_app, lambda _: None)
    runner = fresh_app.test_cli_runner()
    # A known second-factor secret, so the test can type the code an app would show for it.
    secret = bytes(range(20))
    monkeypatch.setattr(credentials, "new_totp_secret", lambda: secret)
    code = credentials.totp_code(secret, credentials.totp_step(time.time()))
    created = runner.invoke(
        args=["users", "create", "--email", "admin@example.org", "--role", "admin"],
        input=f"{PASSWORD}\n{code}\n",  # the password and the app's code; no recovery key
    )
    assert created.exit_code == 0, created.output
    assert str(kept_file(fresh_app)) in created.output
    with fresh_app.app_context():
        holders = set(db.session.scalars(select(KeySlot.holder)))
    assert "admin@example.org" in holders

    # Anywhere else the file is never read: the key is asked for.
    for env_name in ("production", "testing"):
        fresh_app.config["ENV_NAME"] = env_name
        asked = runner.invoke(
            args=["users", "create", "--email", f"{env_name}@example.org", "--role", "admin"],
            input=f"{PASSWORD}\nNOT-THE-KEY\n",
        )
        assert asked.exit_code != 0
        assert "Recovery key" in asked.output
        assert "recovery key" in asked.output.split("Recovery key", 1)[1]
        assert str(kept_file(fresh_app)) not in asked.output
