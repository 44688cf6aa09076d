"""The import-linter contracts in pyproject.toml cover the whole app: a new package or views
module that no contract names would stand outside every wall and pass `make lint` unchecked."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The composition root (create_app, which registers everything) and the development server.
OUTSIDE_THE_LAYERS = {"app", "app.devserver"}


def contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return found


def top_level_modules() -> set[str]:
    app = ROOT / "app"
    packages = {f"app.{path.parent.name}" for path in app.glob("*/__init__.py")}
    modules = {f"app.{path.stem}" for path in app.glob("*.py") if path.stem != "__init__"}
    return packages | modules | {"app"}


def test_every_module_of_the_app_has_its_layer() -> None:
    (layers,) = [contract for contract in contracts() if contract["type"] == "layers"]
    layered = {name for layer in layers["layers"] for name in re.split(r"[|:]", layer)}
    layered = {name.strip().strip("()") for name in layered}
    assert "app.moderation" in layered  # the parsing reads the contract
    assert top_level_modules() - OUTSIDE_THE_LAYERS == layered


def test_every_views_module_is_protected() -> None:
    (views,) = [contract for contract in contracts() if "views module" in contract["name"]]
    on_disk = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "app").rglob("*views.py")
    }
    assert "app.moderation.case_views" in on_disk  # the search finds them
    assert set(views["protected_modules"]) == on_disk
