"""Partner API tokens: `flask tokens …` as an operator uses it, and the rules of the service.

Every test runs on SQLite and on PostgreSQL. A refused token is always refused the same way
(None, and 401 at the API): unknown, malformed, revoked, expired or lacking the scope.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.api.tokens import (
    SHOWN_PREFIX_LENGTH,
    InvalidTokenRequest,
    create_token,
    find_valid_token,
    hash_token,
    revoke_token,
)
from app.extensions import db
from app.models import ApiToken, AuditEvent
from tests.integration.test_canary import rows_containing

TODAY = dt.date(2026, 11, 26)
TOKEN_LINE = re.compile(r"^mp_[A-Za-z0-9_-]{43}$")


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["tokens", *args])
    return result.exit_code, result.output


def created_token(app: Flask, *args: str) -> str:
    code, output = run(app, "create", *args)
    assert code == 0, output
    last_line = output.rstrip("\n").splitlines()[-1]
    assert TOKEN_LINE.match(last_line), output
    return last_line


@pytest.fixture
def in_context(db_app: Flask) -> Iterator[Flask]:
    with db_app.app_context():
        yield db_app


# --- The commands -------------------------------------------------------------------------------


def test_create_prints_the_token_last_and_stores_only_its_hash(
    db_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code, output = run(db_app, "create", "--scope", "submit", "--name", "Beratung Leipzig")
    assert code == 0, output
    *lines, token = output.rstrip("\n").splitlines()
    assert TOKEN_LINE.match(token)
    assert "shown only now" in output
    assert "stored only as a hash" in output
    assert token not in "\n".join(lines)

    with db_app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert stored.prefix == token[:SHOWN_PREFIX_LENGTH]
        assert stored.name == "Beratung Leipzig"
        assert stored.scopes == "submit"
        assert stored.expires_on is None
        assert stored.revoked_on is None
        assert stored.last_used_on is None
        # Neither the token nor its random part is in any row, the audit trail included.
        assert rows_containing(token) == []
        assert rows_containing(token[len("mp_") :]) == []
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "api_token:create")
        ).one()
        assert (event.target_type, event.target_id) == ("api_token", stored.id)
        assert event.details["name"] == "Beratung Leipzig"
        assert event.details["scopes"] == ["submit"]
        assert "Beratung Leipzig" in event.summary
    assert token not in caplog.text
    assert "api_token:create" in caplog.text


def test_several_scopes_and_an_expiry(db_app: Flask) -> None:
    created_token(
        db_app, "--scope", "statistics", "--scope", "submit", "--scope", "submit",
        "--name", "Forschung", "--expires-in-days", "30",
    )  # fmt: skip
    with db_app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert stored.scopes == "submit statistics"
        assert stored.expires_on is not None
        assert stored.expires_on - stored.created_on == dt.timedelta(days=30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "No scope"], "Missing option '--scope'"),
        (["--scope", "admin", "--name", "X"], "'admin' is not one of"),
        (["--scope", "submit"], "Missing option '--name'"),
        (["--scope", "submit", "--name", "   "], "printable characters"),
        (["--scope", "submit", "--name", "x" * 121], "printable characters"),
        (["--scope", "submit", "--name", "tab\there"], "printable characters"),
        (["--scope", "submit", "--name", "X", "--expires-in-days", "0"], "0 is not in the range"),
    ],
)
def test_create_refuses_what_it_cannot_make(db_app: Flask, args: list[str], message: str) -> None:
    code, output = run(db_app, "create", *args)
    assert code != 0
    assert message in output
    assert not TOKEN_LINE.match(output.rstrip("\n").splitlines()[-1])
    with db_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_list_shows_prefixes_names_and_dates_never_a_token(db_app: Flask) -> None:
    code, output = run(db_app, "list")
    assert code == 0
    assert "No API tokens yet" in output

    first = created_token(db_app, "--scope", "submit", "--name", "Beratung Leipzig")
    second = created_token(
        db_app, "--scope", "statistics", "--name", "Forschung", "--expires-in-days", "7"
    )
    with db_app.app_context():
        token = find_valid_token(first, "submit", TODAY)
        assert token is not None
        db.session.commit()
    code, output = run(db_app, "list")
    assert code == 0, output
    assert first not in output
    assert second not in output
    header, *rows = output.rstrip("\n").splitlines()
    assert header.split()[:3] == ["ID", "PREFIX", "SCOPES"]
    assert len(rows) == 2
    assert first[:SHOWN_PREFIX_LENGTH] in rows[0]
    assert "Beratung Leipzig" in rows[0]
    assert str(TODAY) in rows[0]  # last used
    assert second[:SHOWN_PREFIX_LENGTH] in rows[1]
    assert "statistics" in rows[1]
    assert "never" in rows[1]  # not used yet


def test_revoke_refuses_the_token_once_and_for_all(db_app: Flask) -> None:
    token = created_token(db_app, "--scope", "submit", "--name", "Beratung Leipzig")
    with db_app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()

    code, output = run(db_app, "revoke", str(token_id))
    assert code == 0, output
    assert "revoked" in output
    assert token not in output
    code, output = run(db_app, "revoke", str(token_id))
    assert code == 0
    assert "already revoked" in output
    code, output = run(db_app, "revoke", str(token_id + 1))
    assert code != 0
    assert "no API token" in output
    for beyond in ("9" * 30, "0", "-1"):  # a number no id can be: a usage error, not a crash
        result = db_app.test_cli_runner().invoke(args=["tokens", "revoke", beyond])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)

    with db_app.app_context():
        stored = db.session.get(ApiToken, token_id)
        assert stored is not None
        assert stored.revoked_on is not None
        assert find_valid_token(token, "submit", stored.revoked_on) is None
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "api_token:revoke")
        ).all()
        assert [(e.target_type, e.target_id) for e in events] == [("api_token", token_id)]


# --- The service --------------------------------------------------------------------------------


def test_a_valid_token_is_found_and_its_day_of_use_noted(in_context: Flask) -> None:
    stored, text = create_token("Beratung", ["submit"], today=TODAY)
    assert find_valid_token(text, "submit", TODAY + dt.timedelta(days=3)) is stored
    assert stored.last_used_on == TODAY + dt.timedelta(days=3)
    assert isinstance(stored.last_used_on, dt.date)
    assert not isinstance(stored.last_used_on, dt.datetime)
    db.session.commit()
    assert db.session.get(ApiToken, stored.id) is stored


def test_a_token_without_the_scope_is_refused(in_context: Flask) -> None:
    stored, text = create_token("Forschung", ["statistics"], today=TODAY)
    assert find_valid_token(text, "submit", TODAY) is None
    assert find_valid_token(text, "statistics", TODAY) is stored


def test_an_expired_token_is_refused_from_its_expiry_date(in_context: Flask) -> None:
    expires_on = TODAY + dt.timedelta(days=10)
    stored, text = create_token("Beratung", ["submit"], today=TODAY, expires_on=expires_on)
    assert find_valid_token(text, "submit", expires_on - dt.timedelta(days=1)) is stored
    assert find_valid_token(text, "submit", expires_on) is None
    assert find_valid_token(text, "submit", expires_on + dt.timedelta(days=400)) is None
    assert stored.last_used_on == expires_on - dt.timedelta(days=1)


def test_a_revoked_token_is_refused_on_any_day(in_context: Flask) -> None:
    stored, text = create_token("Beratung", ["submit"], today=TODAY)
    assert revoke_token(stored, TODAY + dt.timedelta(days=5)) is True
    assert revoke_token(stored, TODAY + dt.timedelta(days=6)) is False
    assert stored.revoked_on == TODAY + dt.timedelta(days=5)
    for day in (TODAY, TODAY + dt.timedelta(days=5), TODAY + dt.timedelta(days=50)):
        assert find_valid_token(text, "submit", day) is None
    assert stored.last_used_on is None


@pytest.mark.parametrize(
    "presented",
    ["", "mp_", "Bearer", "mp_" + "A" * 43, "mp_" + "x" * 200, "mp_ä", "\x00", "mp_\ud800"],
)
def test_junk_is_refused(in_context: Flask, presented: str) -> None:
    create_token("Beratung", ["submit"], today=TODAY)
    assert find_valid_token(presented, "submit", TODAY) is None


def test_a_token_differs_from_its_neighbours_in_one_character(in_context: Flask) -> None:
    _stored, text = create_token("Beratung", ["submit"], today=TODAY)
    changed = text[:-1] + ("A" if text[-1] != "A" else "B")
    assert find_valid_token(changed, "submit", TODAY) is None
    assert find_valid_token(text.upper(), "submit", TODAY) is None
    assert hash_token(text) != hash_token(changed)


def test_tokens_are_unique_and_random(in_context: Flask) -> None:
    texts = {create_token("Beratung", ["submit"], today=TODAY)[1] for _ in range(20)}
    assert len(texts) == 20
    assert all(TOKEN_LINE.match(text) for text in texts)


@pytest.mark.parametrize(
    ("name", "scopes", "expires_on", "message"),
    [
        ("Beratung", [], None, "at least one scope"),
        ("Beratung", ["submit", "admin"], None, "unknown scopes ['admin']"),
        ("Beratung", ["submit"], TODAY, "after today"),
        ("Beratung", ["submit"], TODAY - dt.timedelta(days=1), "after today"),
        ("", ["submit"], None, "printable"),
        ("line\nbreak", ["submit"], None, "printable"),
    ],
)
def test_create_token_refuses(
    in_context: Flask, name: str, scopes: list[str], expires_on: dt.date | None, message: str
) -> None:
    with pytest.raises(InvalidTokenRequest, match=re.escape(message)):
        create_token(name, scopes, today=TODAY, expires_on=expires_on)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
