from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from app.security import CONTENT_SECURITY_POLICY, HSTS


def every_url(app: Flask) -> list[str]:
    """One concrete URL per rule in the URL map, so a new route is covered automatically."""
    samples: dict[str, Any] = {
        "lang": "de", "filename": "css/site.css", "token": "x", "user_id": 1,
        "incident_id": 1, "position": 0, "file_format": "csv",
    }  # fmt: skip
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **{arg: samples[arg] for arg in rule.arguments}))
    return sorted(set(urls))


def assert_security_headers(headers: Headers) -> None:
    get = headers.get
    csp = get("Content-Security-Policy", "")
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert get("X-Content-Type-Options") == "nosniff"
    assert get("Referrer-Policy") == "no-referrer"
    permissions = get("Permissions-Policy", "")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions


def test_the_url_map_walk_finds_every_page(app: Flask) -> None:
    urls = every_url(app)
    for expected in ("/", "/de/", "/de/network", "/de/imprint", "/healthz", "/static/css/site.css"):
        assert expected in urls


def test_every_route_carries_the_security_headers(db_app: Flask) -> None:
    client = db_app.test_client()  # a migrated database: some routes read it
    for url in every_url(db_app):
        response = client.get(url)
        assert response.status_code in {200, 302, 401, 404, 503}, url
        assert_security_headers(response.headers)
        assert "Strict-Transport-Security" not in response.headers
        response.close()


@pytest.mark.parametrize("url", ["/de/no-such-page", "/static/none.css", "/fr/"])
def test_error_responses_carry_them_too(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert_security_headers(response.headers)
    response.close()


def test_hsts_only_over_https(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/de/").headers
    response = client.get("/de/", base_url="https://meldeportal.example")
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert_security_headers(response.headers)


def test_no_template_uses_inline_script_or_style(app: Flask) -> None:
    templates = Path(app.root_path).parent / "templates"
    for template in templates.rglob("*.html"):
        source = template.read_text(encoding="utf-8")
        # Scripts only from our own static files (<script src>), never inline.
        assert not re.search(r"<script(?![^>]*\ssrc=)", source), template
        assert "<style" not in source, template
        assert " style=" not in source, template
        assert not re.search(r"\son[a-z]+\s*=", source), template


ONION = "http://" + "b3" * 28 + ".onion"


def test_without_an_onion_address_no_page_offers_one(client: FlaskClient) -> None:
    assert "Onion-Location" not in client.get("/de/").headers


def test_every_page_offers_its_own_onion_address(db_app: Flask) -> None:
    db_app.config["ONION_ADDRESS"] = ONION
    client = db_app.test_client()
    for url in [*every_url(db_app), "/de/statistics?year=2026"]:
        response = client.get(url, base_url="https://melden.example.org")
        assert response.headers["Onion-Location"] == ONION + url, url
        response.close()


def test_the_onion_service_itself_offers_nothing(db_app: Flask) -> None:
    db_app.config["ONION_ADDRESS"] = ONION
    response = db_app.test_client().get("/de/help", base_url=ONION)
    assert "Onion-Location" not in response.headers
