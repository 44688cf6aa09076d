from __future__ import annotations

from pathlib import Path

import pytest
from flask import request

from app import create_app
from app.config import DEVELOPMENT_RECEIPT_SECRET, DEVELOPMENT_SECRET_KEY, ConfigurationError

GOOD_SECRET = "s" * 40
OPERATOR = {
    "RECEIPT_SECRET": "r" * 40,
    "OPERATOR_NAME": "Netzwerk e.V.",
    "OPERATOR_ADDRESS": "Straße 1\n04109 Leipzig",
    "OPERATOR_EMAIL": "kontakt@example.org",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("MELDEPORTAL_ENV", "MELDEPORTAL_SECRET_KEY", "MELDEPORTAL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    monkeypatch.setenv("MELDEPORTAL_INSTANCE_PATH", str(instance))
    return instance


def test_production_is_the_default_and_refuses_without_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="MELDEPORTAL_SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("secret", ["", DEVELOPMENT_SECRET_KEY, "too-short"])
def test_production_refuses_missing_default_or_weak_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("MELDEPORTAL_SECRET_KEY", secret)
    with pytest.raises(ConfigurationError, match="MELDEPORTAL_SECRET_KEY"):
        create_app(OPERATOR)


@pytest.mark.parametrize("secret", ["", DEVELOPMENT_RECEIPT_SECRET, "too-short"])
def test_production_refuses_missing_default_or_weak_receipt_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("MELDEPORTAL_SECRET_KEY", GOOD_SECRET)
    with pytest.raises(ConfigurationError, match="MELDEPORTAL_RECEIPT_SECRET"):
        create_app({**OPERATOR, "RECEIPT_SECRET": secret})


def test_production_refuses_without_operator_details(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDEPORTAL_SECRET_KEY", GOOD_SECRET)
    with pytest.raises(ConfigurationError, match="MELDEPORTAL_OPERATOR_NAME"):
        create_app({"RECEIPT_SECRET": "r" * 40})


def test_production_starts_with_secret_and_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDEPORTAL_SECRET_KEY", GOOD_SECRET)
    app = create_app(OPERATOR)
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_runs_with_its_default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDEPORTAL_ENV", "development")
    app = create_app()
    assert app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/meldeportal.sqlite3")


def test_unknown_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDEPORTAL_ENV", "staging")
    with pytest.raises(ConfigurationError, match="staging"):
        create_app()


def test_layers_instance_file_then_environment_then_argument(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    clean_environment.mkdir(parents=True)
    (clean_environment / "config.py").write_text(
        f"SECRET_KEY = {GOOD_SECRET!r}\nRECEIPT_SECRET = {GOOD_SECRET!r}\n"
        "OPERATOR_NAME = 'from instance'\n"
        "OPERATOR_ADDRESS = 'Weg 2'\nOPERATOR_EMAIL = 'a@example.org'\nOPERATOR_PHONE = 'inst'\n"
    )
    monkeypatch.setenv("MELDEPORTAL_OPERATOR_NAME", "from environment")
    monkeypatch.setenv("MELDEPORTAL_OPERATOR_EMAIL", "env@example.org")
    app = create_app({"OPERATOR_EMAIL": "arg@example.org"})
    assert app.config["OPERATOR_PHONE"] == "inst"
    assert app.config["OPERATOR_NAME"] == "from environment"
    assert app.config["OPERATOR_EMAIL"] == "arg@example.org"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_postgresql_urls_use_psycopg3(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("MELDEPORTAL_ENV", "development")
    monkeypatch.setenv("MELDEPORTAL_DATABASE_URL", given)
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == expected


def test_behind_a_proxy_the_forwarded_client_and_https_are_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MELDEPORTAL_ENV", "development")
    app = create_app({"PROXY_HOPS": 1})
    seen: dict[str, object] = {}

    @app.get("/probe")
    def probe() -> str:
        seen.update(addr=request.remote_addr, secure=request.is_secure)
        return "ok"

    response = app.test_client().get(
        "/probe", headers={"X-Forwarded-For": "192.0.2.9", "X-Forwarded-Proto": "https"}
    )
    assert seen == {"addr": "192.0.2.9", "secure": True}
    assert "Strict-Transport-Security" in response.headers


ONION = "http://" + "a2" * 28 + ".onion"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), (ONION, ONION), (ONION + "/", ONION),
     (ONION.replace("http", "https"), ONION.replace("http", "https"))],
)  # fmt: skip
def test_the_onion_address_is_kept_as_an_origin(value: str | None, expected: str | None) -> None:
    app = create_app({"ENV_NAME": "testing", "ONION_ADDRESS": value})
    assert app.config["ONION_ADDRESS"] == expected


@pytest.mark.parametrize(
    "value",
    [
        "a2" * 28 + ".onion",  # no scheme
        "ftp://" + "a2" * 28 + ".onion",
        "http://" + "a2" * 8 + ".onion",  # a version 2 name: tor no longer serves those
        "http://" + "A2" * 28 + ".onion",
        "http://" + "a1" * 28 + ".onion",  # 1 is not base32
        ONION + "/de/",
        ONION + "@example.org",
        "http://example.org",
        42,
    ],
)
def test_anything_but_an_onion_origin_stops_the_start(value: object) -> None:
    with pytest.raises(ConfigurationError, match="ONION_ADDRESS"):
        create_app({"ENV_NAME": "testing", "ONION_ADDRESS": value})
