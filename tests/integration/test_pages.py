from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.config import BaseConfig
from tests.conftest import AppFactory
from tests.pages import (
    CLAIM_FACTS,
    DIRECTIONS,
    LANGUAGES,
    NETWORK_NAMES,
    is_on_site,
    linked_urls,
    page_paths,
    visible_text,
)

QUICK_EXIT = BaseConfig.QUICK_EXIT_URL


@pytest.mark.parametrize("path", page_paths())
def test_every_page_renders_in_its_language(client: FlaskClient, path: str) -> None:
    lang = path.split("/")[1]
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{DIRECTIONS[lang]}">' in html
    assert html.count("<h1") == 1
    assert 'href="#main"' in html
    assert 'id="main"' in html
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", page_paths())
def test_no_page_refers_to_another_site(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    # The one way off the site is the quick exit, a link the person follows by choice.
    exit_link = f'<a class="quick-exit" href="{QUICK_EXIT}" rel="noreferrer" data-quick-exit>'
    assert html.count(exit_link) == 1
    html = html.replace(exit_link, "")
    offsite = [url for url in linked_urls(html) if not is_on_site(url)]
    assert offsite == []
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_network_page_names_every_partner_and_the_claim_facts(
    client: FlaskClient, lang: str
) -> None:
    text = visible_text(client.get(f"/{lang}/network").get_data(as_text=True))
    missing = [name for name in NETWORK_NAMES if name not in text]
    assert missing == []
    assert [fact for fact in CLAIM_FACTS[lang] if fact not in text] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_page_lists_operator_contacts(client: FlaskClient, lang: str) -> None:
    html = client.get(f"/{lang}/help").get_data(as_text=True)
    assert 'href="tel:110"' in html
    assert "TelefonSeelsorge" in html


def test_help_contacts_come_from_the_operators_file(app: Flask, client: FlaskClient) -> None:
    own = Path(app.instance_path) / "content" / "contacts.yaml"
    own.parent.mkdir(parents=True)
    own.write_text(
        "groups:\n  - title: Vor Ort\n    contacts:\n      - name: Beratungsstelle Connewitz\n"
        "        description: Montags offen\n        email: rat@example.org\n",
        encoding="utf-8",
    )
    html = client.get("/de/help").get_data(as_text=True)
    assert "Beratungsstelle Connewitz" in html
    assert 'href="mailto:rat@example.org"' in html
    assert "TelefonSeelsorge" not in html


def test_imprint_shows_the_configured_operator(make_app: AppFactory) -> None:
    app = make_app(
        OPERATOR_NAME="Netzwerk gegen Rassismus e.V.",
        OPERATOR_ADDRESS="Beispielweg 3\n04229 Leipzig",
        OPERATOR_EMAIL="post@example.org",
        OPERATOR_REPRESENTATIVE="A. Vorstand",
        OPERATOR_REGISTER="VR 1234",
        OPERATOR_PHONE="0341 123",
    )
    for lang in LANGUAGES:
        text = visible_text(app.test_client().get(f"/{lang}/imprint").get_data(as_text=True))
        for expected in (
            "Netzwerk gegen Rassismus e.V.",
            "Beispielweg 3",
            "04229 Leipzig",
            "post@example.org",
            "A. Vorstand",
            "VR 1234",
            "0341 123",
        ):
            assert expected in text


@pytest.mark.parametrize(
    ("accept_language", "target"),
    [
        (None, "/de/"),
        ("de-DE,de;q=0.9", "/de/"),
        ("en-GB,en;q=0.9,de;q=0.5", "/en/"),
        ("fr-FR,en;q=0.8", "/en/"),
        ("fr-FR,it;q=0.8", "/de/"),
        ("de;q=0.3,en;q=0.9", "/en/"),
    ],
)
def test_root_redirects_by_accept_language(
    client: FlaskClient, accept_language: str | None, target: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get("/", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert "Accept-Language" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers


def test_language_is_taken_from_the_path_not_the_browser(client: FlaskClient) -> None:
    html = client.get("/de/help", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in html
    assert "Zum Inhalt springen" in html
    html = client.get("/en/help", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    assert "Skip to content" in html


@pytest.mark.parametrize("page", ["", "network", "privacy"])
def test_language_switch_leads_to_the_same_page(client: FlaskClient, page: str) -> None:
    html = client.get(f"/de/{page}").get_data(as_text=True)
    assert f'<a href="/en/{page}" hreflang="en" lang="en" dir="ltr">English</a>' in html
    html = client.get(f"/en/{page}").get_data(as_text=True)
    assert f'<a href="/de/{page}" hreflang="de" lang="de" dir="ltr">Deutsch</a>' in html


def test_unknown_language_is_not_found(client: FlaskClient) -> None:
    assert client.get("/fr/network").status_code == 404
    assert client.get("/fr/").status_code == 404


def test_healthz_answers_without_a_page(db_client: FlaskClient) -> None:
    response = db_client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"


def test_healthz_reports_an_unreachable_database(make_app: AppFactory) -> None:
    app = make_app(DATABASE_URL="sqlite:////nonexistent-folder/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
