"""The quick exit is on every public page, first after the skip link, and on no staff page."""

from __future__ import annotations

import re
import secrets

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.config import ConfigurationError
from tests.conftest import AppFactory
from tests.pages import LANGUAGES, page_paths, say

EXIT_LINK = re.compile(r'<a class="quick-exit" href="([^"]+)" rel="noreferrer" data-quick-exit>')
LABELS = {lang: say(lang, "Seite schnell verlassen") for lang in LANGUAGES}


def public_paths() -> list[str]:
    return page_paths() + [
        f"/{lang}/{page}"
        for lang in LANGUAGES
        for page in ("report", "report/status", "report/thanks", "no-such-page")
    ]


def test_every_public_page_starts_with_the_quick_exit(make_app: AppFactory) -> None:
    client = make_app(QUICK_EXIT_URL="https://www.wetter.de/").test_client()
    for path in public_paths():
        html = client.get(path).get_data(as_text=True)
        links = EXIT_LINK.findall(html)
        assert links == ["https://www.wetter.de/"], path
        body = html.split("<body>", 1)[1]
        # The skip link first, then the quick exit: the first two links a keyboard reaches.
        hrefs = re.findall(r'<a [^>]*href="([^"]+)"', body)[:2]
        assert hrefs == ["#main", "https://www.wetter.de/"], path
        lang = path.split("/")[1]
        assert f"data-quick-exit>{LABELS[lang]}</a>" in html, path
        assert '<script src="/static/js/quick-exit.js" defer></script>' in html, path


def test_the_quick_exit_works_without_the_database(client: FlaskClient) -> None:
    # Error pages too: a person who mistypes an address must still be able to leave.
    response = client.get("/de/kaputt")
    assert response.status_code == 404
    assert EXIT_LINK.search(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "path", ["/moderation/login", "/moderation/", "/moderation/no-such-page", "/research/"]
)
def test_staff_pages_have_no_quick_exit(client: FlaskClient, path: str) -> None:
    response = client.get(path, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "<html" in html, path
    assert "quick-exit" not in html, path


def test_the_script_leaves_by_replacing_the_page_in_the_history(client: FlaskClient) -> None:
    with client.get("/static/js/quick-exit.js") as response:
        assert response.status_code == 200
        script = response.get_data(as_text=True)
    assert "location.replace(target)" in script
    assert '"Escape"' in script


def test_a_production_app_refuses_a_quick_exit_that_is_not_https(make_app: AppFactory) -> None:
    with pytest.raises(ConfigurationError, match="QUICK_EXIT_URL"):
        create_app(
            {
                "ENV_NAME": "production",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "RECEIPT_SECRET": secrets.token_urlsafe(48),
                "OPERATOR_NAME": "Netzwerk",
                "OPERATOR_ADDRESS": "Weg 1",
                "OPERATOR_EMAIL": "post@example.org",
                "QUICK_EXIT_URL": "http://127.0.0.1/",
            }
        )
    with pytest.raises(ConfigurationError, match="QUICK_EXIT_URL"):
        make_app(QUICK_EXIT_URL="javascript:alert(1)")
