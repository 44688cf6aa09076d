"""`flask keys …` as a new operator would use it, and the start-up refusal without a key."""

from __future__ import annotations

import datetime as dt
import logging
import re

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import func, select

from app.config import ConfigurationError
from app.crypto import keyring
from app.crypto.kdf import KdfParams
from app.crypto.sessions import open_unlocked_session
from app.extensions import db
from app.intake import followup
from app.models import SessionKey, StatusSession
from app.startup import prepare_to_serve
from tests.conftest import AppFactory
from tests.factories import store_sample_report

RECOVERY = re.compile(r"^\s+((?:[0-9A-Z]{4}-){12}[0-9A-Z]{4})$", re.MULTILINE)
CHEAP = {"SLOT_KDF_MEMORY_KIB": 1024, "SLOT_KDF_ITERATIONS": 1, "SLOT_KDF_LANES": 1}


def run(app: Flask, *args: str, input: str | None = None) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["keys", *args], input=input)
    return result.exit_code, result.output


def test_a_new_operators_first_steps(db_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    code, output = run(db_app, "status")
    assert code == 0
    assert "Organisation key: none" in output
    assert "flask keys init" in output

    code, output = run(db_app, "init")
    assert code == 0, output
    match = RECOVERY.search(output)
    assert match, output
    recovery = match.group(1)
    assert "shown once" in output
    assert "offline" in output

    code, output = run(db_app, "init")
    assert code != 0
    assert "exist already" in output
    assert recovery not in output

    for holder in ("ayse@example.org", "jonas@example.org"):
        code, output = run(
            db_app, "recover", "--holder", holder, input=f"{recovery}\nlong enough password\n"
        )
        assert code == 0, output
        assert f"{holder} holds a new key slot" in output

    code, output = run(db_app, "status")
    assert code == 0
    assert "Key slots: 3" in output
    assert "ayse@example.org" in output
    assert "WARNING" not in output

    code, output = run(db_app, "rotate", input=f"{recovery}\n")
    assert code == 0, output
    assert "0 reports rewrapped" in output

    code, output = run(
        db_app, "rotate", "--holder", "jonas@example.org", input="long enough password\n"
    )
    assert code == 0, output

    code, output = run(db_app, "rotate", input="WRONG-KEY\n")
    assert code != 0
    assert "not a recovery key" in output

    code, output = run(db_app, "rotate", "--holder", "nobody@example.org", input="x\n")
    assert code != 0
    assert "no key slot" in output

    code, output = run(db_app, "recover", "--holder", "x@example.org", input=f"{recovery}\nshort\n")
    assert code != 0
    assert "12 characters" in output

    # Key material never reaches a log.
    assert recovery not in caplog.text
    assert recovery.replace("-", "") not in caplog.text


@pytest.fixture
def cheap_app(make_app: AppFactory, database_url: str) -> Flask:
    app = make_app(DATABASE_URL=database_url, **CHEAP)
    with app.app_context():
        flask_migrate.upgrade()
    return app


def test_production_refuses_to_serve_without_a_key(cheap_app: Flask) -> None:
    cheap_app.config["ENV_NAME"] = "production"
    with pytest.raises(ConfigurationError, match="flask --app app keys init"):
        prepare_to_serve(cheap_app)
    assert run(cheap_app, "init")[0] == 0
    prepare_to_serve(cheap_app)  # now it may start
    with cheap_app.app_context():
        db.engine.dispose()


def test_serving_refuses_an_unmigrated_database(make_app: AppFactory) -> None:
    app = make_app()
    with pytest.raises(ConfigurationError, match="db upgrade"):
        prepare_to_serve(app)


def test_development_creates_and_announces_a_key_once(cheap_app: Flask) -> None:
    cheap_app.config["ENV_NAME"] = "development"
    said: list[str] = []
    prepare_to_serve(cheap_app, said.append)
    prepare_to_serve(cheap_app, said.append)
    assert len(said) == 1
    assert "DEVELOPMENT ONLY" in said[0]
    assert RECOVERY.search(said[0])
    with cheap_app.app_context():
        db.engine.dispose()


def test_sessions_purge_removes_only_expired_ones(cheap_app: Flask) -> None:
    now = dt.datetime.now(dt.UTC)
    with cheap_app.app_context():
        code = keyring.initialise_keys(now.date())
        slot = keyring.recover_slot(
            code, "a@example.org", "long enough password", today=now.date(),
            params=KdfParams(1024, 1, 1),
        )  # fmt: skip
        unlocked = keyring.unlock_with_recovery(code)
        open_unlocked_session(slot, unlocked, now=now - dt.timedelta(hours=13),
                              lifetime=dt.timedelta(hours=12))  # fmt: skip
        open_unlocked_session(slot, unlocked, now=now, lifetime=dt.timedelta(hours=12))
        secret = b"r" * 32
        stored = store_sample_report(secret)
        db.session.commit()
        # Status sessions end by the day (no time in clear): one opened two days ago has ended.
        # Opened last, so that opening the other one does not already remove it on the way.
        for start in (now, now - dt.timedelta(days=2)):
            assert followup.open_status(stored.receipt.value, secret, now=start,
                                        lifetime=dt.timedelta(hours=2))  # fmt: skip
        db.session.commit()
    result = cheap_app.test_cli_runner().invoke(args=["sessions", "purge"])
    assert result.exit_code == 0, result.output
    expected = "Removed 0 expired staff sessions, 1 sets of unlocked keys and 1 status sessions."
    assert expected in result.output
    with cheap_app.app_context():
        for model in (SessionKey, StatusSession):
            assert db.session.scalar(select(func.count()).select_from(model)) == 1
        db.session.remove()
        db.engine.dispose()
