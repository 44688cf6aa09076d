from __future__ import annotations

import pytest
from flask import Flask, abort, request
from flask.testing import FlaskClient

from tests.conftest import AppFactory

TITLES = {
    400: ("Die Anfrage ist fehlerhaft", "The request is malformed"),
    403: ("Kein Zugriff", "Access denied"),
    404: ("Seite nicht gefunden", "Page not found"),
    405: ("Aktion nicht möglich", "This action is not possible"),
    413: ("Die Daten sind zu groß", "What you sent is too large"),
    500: ("Ein Fehler ist aufgetreten", "An error occurred"),
}


@pytest.fixture
def probe_app(make_app: AppFactory) -> Flask:
    """An app with routes that fail on purpose, as later blueprints' forms will."""
    app = make_app(PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=1024)

    @app.post("/<lang:lang>/probe/form")
    def probe_form() -> str:
        return str(len(request.form))

    @app.get("/<lang:lang>/probe/forbidden")
    def probe_forbidden() -> str:
        abort(403)

    @app.get("/<lang:lang>/probe/crash")
    def probe_crash() -> str:
        raise RuntimeError("secret internals /srv/app.py line 1")

    return app


def assert_error_page(response: object, code: int, lang: str) -> None:
    html = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == code  # type: ignore[attr-defined]
    assert f'<html lang="{lang}" dir="ltr">' in html
    title = TITLES[code][0 if lang == "de" else 1]
    assert f"<h1>{title}</h1>" in html
    assert "Traceback" not in html
    assert response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_not_found_is_localised_by_path(client: FlaskClient, lang: str) -> None:
    assert_error_page(client.get(f"/{lang}/nowhere"), 404, lang)


@pytest.mark.parametrize(("accept", "lang"), [("en-US", "en"), ("de", "de"), ("fr", "de")])
def test_not_found_outside_a_language_follows_the_browser(
    client: FlaskClient, accept: str, lang: str
) -> None:
    assert_error_page(client.get("/nowhere", headers={"Accept-Language": accept}), 404, lang)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_wrong_method_is_405(client: FlaskClient, lang: str) -> None:
    assert_error_page(client.post(f"/{lang}/network"), 405, lang)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_missing_csrf_token_is_a_localised_400(probe_app: Flask, lang: str) -> None:
    response = probe_app.test_client().post(f"/{lang}/probe/form", data={"a": "b"})
    assert_error_page(response, 400, lang)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_oversized_body_is_413(probe_app: Flask, lang: str) -> None:
    response = probe_app.test_client().post(f"/{lang}/probe/form", data={"a": "x" * 5000})
    assert_error_page(response, 413, lang)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_forbidden_is_403(probe_app: Flask, lang: str) -> None:
    assert_error_page(probe_app.test_client().get(f"/{lang}/probe/forbidden"), 403, lang)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_crash_is_a_500_without_internals(
    probe_app: Flask, lang: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = probe_app.test_client().get(f"/{lang}/probe/crash")
    assert_error_page(response, 500, lang)
    assert "secret internals" not in response.get_data(as_text=True)
    assert "RuntimeError" in caplog.text  # the operator still learns what failed


def test_unusual_status_codes_fall_back_to_a_generic_page(probe_app: Flask) -> None:
    @probe_app.get("/de/probe/teapot")
    def teapot() -> str:
        abort(418)

    response = probe_app.test_client().get("/de/probe/teapot")
    assert response.status_code == 418
    assert "<h1>Die Anfrage ist fehlerhaft</h1>" in response.get_data(as_text=True)
