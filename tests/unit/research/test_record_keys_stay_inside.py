"""Only the statistics' own modules name record keys or key sums; no view, template, export,
API, audit call or log line does (tests/functional/test_record_keys.py checks the answers)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SECRET_NAMES = re.compile(r"record[_ ]?key|key[_ ]?sum", re.IGNORECASE)
# Where they are stored, kept current, read and (perturbation.py) turned into cell keys.
ALLOWED = {
    "app/models/incident.py",
    "app/models/statistics.py",
    "app/research/counts.py",
    "app/research/statistics.py",
    "app/research/perturbation.py",
    "app/research/disclosure.py",  # sums the key sums of a table's margins, publishes them
    "app/research/public.py",  # adds a year's months' key sums together for disclosure.py
    "app/demo/__init__.py",  # says that its incidents' keys are not drawn from the seed
}


def test_only_the_statistics_modules_name_record_keys_or_key_sums() -> None:
    naming = {
        path.relative_to(ROOT).as_posix()
        for folder in ("app", "templates", "static")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".html", ".txt", ".md", ".json", ".yaml", ".po", ".js"}
        and SECRET_NAMES.search(path.read_text(encoding="utf-8"))
    }
    assert naming - ALLOWED == set()
    assert {"app/models/incident.py", "app/research/counts.py"} <= naming  # the check looks
