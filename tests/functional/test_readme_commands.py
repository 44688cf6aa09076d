"""The README's commands work as written: the first hour is exactly what scripts/first_hour.py
runs (which `make test` runs), every `flask` command parses against the real command line, and
every `make` target and `.venv/bin` tool it names exists."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest
from flask import Flask

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")


def first_hour_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("first_hour", ROOT / "scripts" / "first_hour.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"the README has no section {title!r}"
    return match.group(1)


def command_lines(text: str, languages: tuple[str, ...] = ("sh",)) -> list[str]:
    """Each command of the text's code blocks, without comments and continuation lines."""
    commands: list[str] = []
    for language, body in FENCE.findall(text):
        if language not in languages:
            continue
        pending = ""
        for line in re.sub(r"\\\n\s*", " ", body).splitlines():
            pending += line + "\n"
            try:
                words = shlex.split(pending, comments=True)
            except ValueError:  # a quoted argument goes on over the next line
                continue
            pending = ""
            if words:
                commands.append(shlex.join(words))
        assert pending == "", f"unclosed quotation in {body!r}"
    return commands


def test_the_first_hour_is_what_the_script_runs() -> None:
    script = first_hour_script()
    text = section("The first hour")
    assert command_lines(text) == list(script.COMMANDS)
    assert [shlex.join(shlex.split(command)) for command in script.COMMANDS] == list(
        script.COMMANDS
    )
    addresses = re.findall(r"http://127\.0\.0\.1:5000(/[^\s),]*)", text)
    assert addresses == list(script.ADDRESSES)
    assert script.README_BASE == "http://127.0.0.1:5000"
    assert "make test" in text


def test_make_test_runs_the_first_hour() -> None:
    makefile = (ROOT / "Makefile").read_text()
    test_target = re.search(r"^test:(.*)$", makefile, re.M)
    assert test_target
    assert "first-hour" in test_target.group(1).split()
    recipe = re.search(r"^first-hour:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe
    assert "scripts/first_hour.py" in recipe.group(1)


def flask_commands() -> list[str]:
    """Every flask command the README shows: code blocks, and inline code naming `--app app`."""
    found = [
        line
        for line in command_lines(README, ("sh", "cron"))
        if re.search(r"(^|\s|/)flask\s", line)
    ]
    for span in INLINE.findall(README):
        if "--app app" in span and not re.search(r"[…\[]", span):
            found.append(span)
    return found


def test_the_readme_shows_flask_commands() -> None:
    assert len(flask_commands()) >= 15  # the walk below covers something


@pytest.mark.parametrize("line", flask_commands())
def test_every_flask_command_is_typed_as_it_works(line: str) -> None:
    # Without an activated virtualenv only the path into .venv finds flask.
    words = shlex.split(line)
    if "&&" in words:  # cron: `cd /srv/meldeportal && .venv/bin/flask …`
        words = words[words.index("&&") + 1 :]
    if not line.startswith("flask --app app"):  # the inline form, after activating .venv
        assert words[:3] == [".venv/bin/flask", "--app", "app"], line


@pytest.mark.parametrize("line", flask_commands())
def test_every_flask_command_parses_against_the_real_command_line(app: Flask, line: str) -> None:
    words = shlex.split(line)
    words = words[words.index("--app") + 2 :]
    command: click.Command = app.cli
    path: list[str] = []
    with click.Context(app.cli) as context:
        while isinstance(command, click.Group):
            assert words, f"{line}: names a group, not a command"
            name = words.pop(0)
            found = command.get_command(context, name)
            assert found is not None, f"{line}: no command {' '.join([*path, name])!r}"
            command, path = found, [*path, name]
    # Parses every option and argument (types, choices, required ones) without running it.
    command.make_context(" ".join(path), words)


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", README))
    assert named >= {"run", "test"}
    assert named <= targets, named - targets


def test_every_tool_in_the_virtualenv_the_readme_names_is_installed() -> None:
    tools = set(re.findall(r"\.venv/bin/([\w-]+)", README))
    assert "flask" in tools
    missing = [tool for tool in tools if not (ROOT / ".venv" / "bin" / tool).exists()]
    assert missing == []


def test_every_file_the_first_hour_names_is_written_or_shipped() -> None:
    from app.config import DEVELOPMENT_FILE, DEVELOPMENT_RECOVERY_FILE

    text = section("Two commands") + section("The first hour")
    named = set(re.findall(r"`(instance/[\w.-]+|scripts/[\w.-]+)`", text))
    written = {f"instance/{DEVELOPMENT_FILE}", f"instance/{DEVELOPMENT_RECOVERY_FILE}"}
    database = "instance/meldeportal.sqlite3"  # app._configure_database
    assert (
        written | {"scripts/first_hour.py"}
        <= named
        <= written | {database, "scripts/first_hour.py"}
    )
    assert (ROOT / "scripts" / "first_hour.py").exists()
    assert database.split("/")[1] in (ROOT / "app" / "__init__.py").read_text()
