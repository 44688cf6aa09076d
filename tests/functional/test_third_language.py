"""A third language is configuration plus texts: one ``LANGUAGES`` entry, a catalog, codebook
texts and page files, and every public page speaks it.

The test language is Hebrew's code ``he`` (written right to left), with made-up texts: every
translation is the German text behind a marker, so a page shows which source each text came
from. A real code is needed because dates, numbers and plurals come from Babel's locale data;
an invented code such as ``xx`` is refused at start-up (tests/unit/test_languages.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

import app.codebook
from app import PROJECT_ROOT, create_app
from app.codebook import CODEBOOK_FILE, Codebook, current_codebook, load_codebook
from app.config import LANGUAGES, Language
from app.crypto import credentials as totp
from app.crypto import keyring
from app.extensions import db
from app.notifications import NEW_REPORT, compose
from app.pages.services import SHIPPED_CONTENT, split_front_matter
from tests.factories import report_form_data
from tests.functional.conftest import hidden_value, post_report, receipt_code, walk_to_step
from tests.pages import PAGES
from tests.staff import PASSWORD

CODE = "he"
MARK = "[he] "
THIRD = Language(CODE, "Testsprache", "rtl")
HTML_TAG = f'<html lang="{CODE}" dir="rtl">'
SHIPPED = [language.code for language in LANGUAGES]
PUBLIC_PATHS = [f"/{CODE}/{page}" for page in (*PAGES, "statistics", "report", "report/status")]


def write_catalog(root: Path) -> None:
    """A compiled catalog for ``he``: every singular text of the English catalog, marked German."""
    with (PROJECT_ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        english = read_po(handle)
    catalog = Catalog(locale=CODE)
    for message in english:
        if message.id and isinstance(message.id, str):
            catalog.add(message.id, MARK + message.id)
    folder = root / CODE / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)


def add_language(value: Any) -> Any:
    """The codebook's YAML with a marked ``he`` text beside every German one."""
    if isinstance(value, dict):
        texts = {key: add_language(item) for key, item in value.items()}
        if isinstance(value.get("de"), str):  # a text (in every language the codebook has)
            texts[CODE] = MARK + value["de"]
        return texts
    if isinstance(value, list):
        return [add_language(item) for item in value]
    return value


def write_pages(instance: Path) -> None:
    """The page files, in the operator's content folder (``instance/content/he``)."""
    folder = instance / "content" / CODE
    folder.mkdir(parents=True)
    for page in (SHIPPED_CONTENT / "de").glob("*.md"):
        meta, body = split_front_matter(page.read_text(encoding="utf-8"), page)
        meta["title"] = MARK + meta["title"]
        front = yaml.safe_dump(meta, allow_unicode=True)
        (folder / page.name).write_text(f"---\n{front}---\n{body}", encoding="utf-8")


@pytest.fixture(scope="module")
def third_codebook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Codebook]:
    """The installed codebook, read with texts in ``he`` too, for this module only."""
    path = tmp_path_factory.mktemp("codebook") / "codebook.yaml"
    data = yaml.safe_load(CODEBOOK_FILE.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(add_language(data), allow_unicode=True), encoding="utf-8")
    patch = pytest.MonkeyPatch()
    patch.setattr(app.codebook, "load_codebook", lambda: load_codebook(path))
    current_codebook.cache_clear()
    try:
        yield current_codebook()
    finally:
        patch.undo()
        current_codebook.cache_clear()


@pytest.fixture(scope="module")
def third_app(tmp_path_factory: pytest.TempPathFactory, third_codebook: Codebook) -> Flask:
    """A migrated SQLite app with German, English and ``he``, and an organisation key."""
    root = tmp_path_factory.mktemp("third")
    write_catalog(root / "translations")
    write_pages(root / "instance")
    flask_app = create_app(
        {
            "ENV_NAME": "testing",
            "INSTANCE_PATH": str(root / "instance"),
            "SESSION_COOKIE_SECURE": False,
            "LANGUAGES": (*LANGUAGES, THIRD),
            "BABEL_TRANSLATION_DIRECTORIES": ";".join(
                [str(root / "translations"), str(PROJECT_ROOT / "app" / "translations")]
            ),
        }
    )
    with flask_app.app_context():
        flask_migrate.upgrade()
        keyring.initialise_keys(dt.date(2026, 11, 26))
        db.session.commit()
    return flask_app


@pytest.fixture
def client(third_app: Flask) -> FlaskClient:
    return third_app.test_client()


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_every_public_page_is_in_the_third_language(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert HTML_TAG in html
    assert MARK + "Zum Inhalt springen" in html  # the catalog
    for language in LANGUAGES:  # the switch offers the others, each in its own direction
        code, direction = language.code, language.direction
        assert f'hreflang="{code}" lang="{code}" dir="{direction}"' in html


def test_the_switch_offers_the_third_language(client: FlaskClient) -> None:
    html = client.get("/de/help").get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in html
    assert f'<a href="/{CODE}/help" hreflang="{CODE}" lang="{CODE}" dir="rtl">Testsprache</a>' in (
        html
    )


def test_pages_and_codebook_texts_come_in_the_third_language(
    client: FlaskClient, third_codebook: Codebook
) -> None:
    help_page = client.get(f"/{CODE}/help").get_data(as_text=True)
    assert f"<h1>{MARK}" in help_page  # the page file from instance/content/he
    where, _sending = walk_to_step(client, report_form_data(), 2, lang=CODE)
    assert third_codebook.question("land").label(CODE) == MARK + "Bundesland"
    assert MARK + "Bundesland" in where.get_data(as_text=True)


def test_an_unknown_language_is_not_found(client: FlaskClient) -> None:
    assert client.get("/fa/help").status_code == 404
    assert client.get("/fa/report").status_code == 404


def test_a_report_and_its_status_page_in_the_third_language(client: FlaskClient) -> None:
    thanks = post_report(client, report_form_data(), lang=CODE)
    assert thanks.status_code == 200
    assert HTML_TAG in thanks.get_data(as_text=True)
    code = receipt_code(thanks)
    status_form = client.get(f"/{CODE}/report/status").get_data(as_text=True)
    csrf = hidden_value(status_form, "csrf_token")
    opened = client.post(f"/{CODE}/report/status", data={"csrf_token": csrf, "code": code})
    assert opened.status_code in (200, 303)
    status = client.get(f"/{CODE}/report/status")
    html = status.get_data(as_text=True)
    assert status.status_code == 200
    assert HTML_TAG in html
    assert 'name="code"' not in html  # the report's own status, not the code form


def test_the_api_document_lists_the_third_language(client: FlaskClient) -> None:
    document = json.loads(client.get("/api/v1/openapi.json").get_data(as_text=True))
    report = document["components"]["schemas"]["Report"]["properties"]
    assert report["language"]["enum"] == [*SHIPPED, CODE]
    assert report["land"]["x-label-de"] == "Bundesland"
    assert report["land"][f"x-label-{CODE}"] == MARK + "Bundesland"
    statistics = document["paths"]["/api/v1/statistics"]["get"]["parameters"]
    lang = next(parameter for parameter in statistics if parameter["name"] == "lang")
    assert lang["schema"]["enum"] == [*SHIPPED, CODE]


def test_a_notice_mail_has_a_part_in_the_third_language(third_app: Flask) -> None:
    with third_app.test_request_context(f"/{CODE}/"):
        mail = compose(NEW_REPORT, "leitung@example.org", dict(third_app.config))
    body = mail.get_content()
    assert mail["Subject"].startswith("Meldeportal: neue Meldung / new report / ")
    assert mail["Subject"].endswith(f" / {MARK}neue Meldung")
    assert body.index("A new report has arrived") < body.index(MARK + "Im Meldeportal ist")
    assert MARK + "Diese Nachricht enthält absichtlich keine Einzelheiten." in body


def test_staff_can_work_in_the_third_language(
    third_app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = bytes(range(20))
    monkeypatch.setattr(totp, "new_totp_secret", lambda: secret)  # to type the app's code
    runner = third_app.test_cli_runner()
    email = "forschung@example.org"
    base = ["users", "create", "--email", email, "--role", "researcher", "--language"]
    refused = runner.invoke(args=[*base, "fa"], input=f"{PASSWORD}\n")
    assert refused.exit_code != 0
    assert f"'fa' is not one of {', '.join([*SHIPPED, CODE])}" in refused.output
    code = totp.totp_code(secret, totp.totp_step(time.time()))
    created = runner.invoke(args=[*base, CODE], input=f"{PASSWORD}\n{code}\n")
    assert created.exit_code == 0, created.output
    recovery = re.findall(r"^\s+((?:[0-9A-Z]{4}-){3}[0-9A-Z]{4})$", created.output, re.MULTILINE)
    login = client.get("/moderation/login").get_data(as_text=True)
    credentials = {"email": email, "password": PASSWORD, "code": recovery[0]}
    answer = client.post(
        "/moderation/login", data={"csrf_token": hidden_value(login, "csrf_token"), **credentials}
    )
    assert answer.status_code == 303
    account = client.get("/moderation/account").get_data(as_text=True)
    assert HTML_TAG in account
    assert f'<option value="{CODE}" lang="{CODE}" dir="rtl" selected>Testsprache</option>' in (
        account
    )
    csrf = hidden_value(account, "csrf_token")
    unknown = client.post("/moderation/account", data={"csrf_token": csrf, "language": "fa"})
    assert unknown.status_code == 400
    saved = client.post("/moderation/account", data={"csrf_token": csrf, "language": "en"})
    assert saved.status_code == 303
    assert '<html lang="en" dir="ltr">' in client.get("/moderation/account").get_data(as_text=True)
