"""Audit tags: one list, one naming, and the migration that renamed the old ones knows them all."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from app.audit import AuditTag

ROOT = Path(__file__).resolve().parents[2]
RENAMING = next((ROOT / "migrations" / "versions").glob("*_2d6c9e4b8a17_*.py"))


def test_every_tag_is_subject_colon_action_and_unique() -> None:
    values = [tag.value for tag in AuditTag]
    assert len(values) == len(set(values))
    for value in values:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*:[a-z]+(_[a-z]+)*", value), value


def test_the_renaming_migration_ends_on_tags_of_the_list() -> None:
    spec = importlib.util.spec_from_file_location("renaming", RENAMING)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    before = [old for old, _ in module.RENAMED]
    after = {new for _, new in module.RENAMED}
    assert after <= {tag.value for tag in AuditTag}
    assert len(set(before)) == len(before)
    assert not set(before) & {tag.value for tag in AuditTag}  # no old name is still in use


def test_no_module_writes_a_tag_as_a_string() -> None:
    """mypy holds record_event to AuditTag; this also catches a tag spelled out elsewhere."""
    literal = re.compile(r"[\"'](%s):[a-z_]+[\"']" % "|".join(  # noqa: UP031
        sorted({tag.value.split(":")[0] for tag in AuditTag})))  # fmt: skip
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if path.name != "audit.py" and literal.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
