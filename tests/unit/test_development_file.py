"""`make run` marks its instance folder as development; only the `flask` command and the
development server follow the mark, and never beside a real installation's secrets."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from app import create_app
from app.config import (
    DEVELOPMENT_FILE,
    DEVELOPMENT_RECOVERY_FILE,
    DEVELOPMENT_SECRET_KEY,
    ConfigurationError,
    development_file_present,
    read_development_recovery_key,
    write_development_file,
    write_development_recovery_key,
)
from app.startup import mark_development

GOOD_SECRET = "s" * 40
PRODUCTION = {
    "MELDEPORTAL_SECRET_KEY": GOOD_SECRET,
    "MELDEPORTAL_RECEIPT_SECRET": "r" * 40,
    "MELDEPORTAL_OPERATOR_NAME": "Netzwerk e.V.",
    "MELDEPORTAL_OPERATOR_ADDRESS": "Straße 1",
    "MELDEPORTAL_OPERATOR_EMAIL": "kontakt@example.org",
}


@pytest.fixture
def instance(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("MELDEPORTAL_ENV", "FLASK_RUN_FROM_CLI", *PRODUCTION):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setenv("MELDEPORTAL_INSTANCE_PATH", str(folder))
    return folder


@pytest.fixture
def marked(instance: Path) -> Path:
    assert write_development_file(instance)
    return instance


@pytest.fixture
def under_flask_command(monkeypatch: pytest.MonkeyPatch, instance: Path) -> None:
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # what `flask …` sets before loading


@pytest.mark.usefixtures("under_flask_command")
def test_the_flask_command_follows_the_mark_and_says_so_once(
    marked: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "meldeportal.config")
    app = create_app()
    assert app.config["ENV_NAME"] == "development"
    assert app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    said = [r.getMessage() for r in caplog.records if r.name == "meldeportal.config"]
    assert len(said) == 1
    assert str(marked / DEVELOPMENT_FILE) in said[0]
    assert "make run" in said[0]
    create_app()
    assert len([r for r in caplog.records if r.name == "meldeportal.config"]) == 1


def test_without_the_mark_the_flask_command_is_production(
    instance: Path, under_flask_command: None
) -> None:
    with pytest.raises(ConfigurationError, match="MELDEPORTAL_SECRET_KEY"):
        create_app()


def test_gunicorn_and_any_other_wsgi_import_ignore_the_mark(
    marked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default outside the `flask` command: a module that calls create_app() itself.
    with pytest.raises(ConfigurationError, match="MELDEPORTAL_SECRET_KEY"):
        create_app()
    # wsgi.py says so explicitly, even where the flag of the `flask` command is set.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    with pytest.raises(ConfigurationError, match="MELDEPORTAL_SECRET_KEY"):
        create_app(development_file=False)
    wsgi = (Path(__file__).parents[2] / "wsgi.py").read_text()
    assert "create_app(development_file=False)" in wsgi


@pytest.mark.usefixtures("under_flask_command")
def test_an_explicit_environment_wins_over_the_mark(
    marked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MELDEPORTAL_ENV", "production")
    assert create_app().config["ENV_NAME"] == "production"
    monkeypatch.setenv("MELDEPORTAL_ENV", "testing")
    assert create_app().config["ENV_NAME"] == "testing"
    assert create_app({"ENV_NAME": "production"}).config["ENV_NAME"] == "production"


@pytest.mark.usefixtures("under_flask_command")
@pytest.mark.parametrize("secret", ["SECRET_KEY", "RECEIPT_SECRET"])
@pytest.mark.parametrize("where", ["environment", "instance/config.py"])
def test_the_mark_beside_a_real_installations_secret_stops_the_start(
    marked: Path, monkeypatch: pytest.MonkeyPatch, secret: str, where: str
) -> None:
    if where == "environment":
        monkeypatch.setenv(f"MELDEPORTAL_{secret}", GOOD_SECRET)
    else:
        (marked / "config.py").write_text(f"{secret} = {GOOD_SECRET!r}\n")
    with pytest.raises(ConfigurationError, match=DEVELOPMENT_FILE) as refused:
        create_app()
    assert secret in str(refused.value)
    assert "MELDEPORTAL_ENV" in str(refused.value)


@pytest.mark.usefixtures("under_flask_command")
@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "MELDEPORTAL_ENV=production\n",
        "MELDEPORTAL_ENV=development\nMELDEPORTAL_SECRET_KEY=x\n",
        "MELDEPORTAL_ENV=development\nMELDEPORTAL_ENV=development\n",
        "MELDEPORTAL_ENV = testing\n",
        "\udcff",
    ],
)
def test_a_mark_that_says_anything_else_is_refused(instance: Path, text: str) -> None:
    (instance / DEVELOPMENT_FILE).write_text(text, errors="surrogateescape")
    with pytest.raises(ConfigurationError, match=DEVELOPMENT_FILE):
        create_app()


def test_a_folder_in_place_of_the_mark_is_refused(instance: Path) -> None:
    (instance / DEVELOPMENT_FILE).mkdir()
    with pytest.raises(ConfigurationError, match="cannot be read"):
        development_file_present(instance)


def test_the_mark_is_written_once_and_reads_back(instance: Path) -> None:
    assert not development_file_present(instance)
    assert write_development_file(instance)
    assert development_file_present(instance)
    (instance / DEVELOPMENT_FILE).write_text("# kept\nMELDEPORTAL_ENV=development\n")
    assert not write_development_file(instance)
    assert (instance / DEVELOPMENT_FILE).read_text().startswith("# kept")


def test_only_the_development_server_marks_the_folder(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    mark_development(create_app(), said.append)
    assert not (instance / DEVELOPMENT_FILE).exists()
    monkeypatch.setenv("MELDEPORTAL_ENV", "testing")
    mark_development(create_app(), said.append)
    assert not (instance / DEVELOPMENT_FILE).exists()
    assert said == []
    for name in PRODUCTION:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MELDEPORTAL_ENV", "development")
    # A key it did not make itself (no recovery key kept beside it): perhaps a real
    # installation's folder, where `make run` was started by mistake.
    mark_development(create_app(), said.append)
    assert not (instance / DEVELOPMENT_FILE).exists()
    assert len(said) == 1
    assert f"Not writing {DEVELOPMENT_FILE}" in said[0]
    write_development_recovery_key(instance, "ABCD-EFGH")  # as the development server does
    mark_development(create_app(), said.append)
    mark_development(create_app(), said.append)
    assert development_file_present(instance)
    assert len(said) == 2
    assert f"Wrote {instance / DEVELOPMENT_FILE}" in said[1]


def test_the_development_recovery_key_is_kept_for_its_owner_only(instance: Path) -> None:
    assert read_development_recovery_key(instance) is None
    path = write_development_recovery_key(instance, "ABCD-EFGH")
    assert path == instance / DEVELOPMENT_RECOVERY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "DEVELOPMENT ONLY" in path.read_text()
    assert read_development_recovery_key(instance) == "ABCD-EFGH"
    with pytest.raises(FileExistsError):
        write_development_recovery_key(instance, "OTHER")
    assert read_development_recovery_key(instance) == "ABCD-EFGH"
    path.write_text("ABCD\nEFGH\n")  # not one key: nothing is guessed
    assert read_development_recovery_key(instance) is None
