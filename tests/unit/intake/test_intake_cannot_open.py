"""The intake seals with the public key only: nothing on its path can open what it sealed."""

from __future__ import annotations

import ast
from pathlib import Path

import app.intake.services

OPENING = {
    "unwrap", "unwrap_secret", "open_sealed", "open_sealed_text", "open_report", "report_key",
    "mailbox_key_for_staff", "unlock_with_password", "unlock_with_recovery", "session_keys",
    "open_holder_key", "recovery_private_key", "load_private_key", "UnlockedKeys",
}  # fmt: skip


def imported_names(module_file: str) -> set[str]:
    tree = ast.parse(Path(module_file).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name.rsplit(".", 1)[-1] for alias in node.names)
    return names


def test_intake_services_import_nothing_that_opens() -> None:
    assert app.intake.services.__file__ is not None
    assert imported_names(app.intake.services.__file__) & OPENING == set()
