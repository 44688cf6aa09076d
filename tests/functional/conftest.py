"""Whole flows through the Flask test client, with CSRF protection on (never disabled)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.crypto import keyring
from app.extensions import db


@pytest.fixture
def intake_app(db_app: Flask) -> Flask:
    """A migrated app (SQLite and PostgreSQL) with an organisation key."""
    with db_app.app_context():
        recovery = keyring.initialise_keys(dt.date(2026, 11, 26))
        db.session.commit()
    db_app.config["TEST_RECOVERY_KEY"] = recovery
    return db_app


@pytest.fixture
def browser_like(intake_app: Flask) -> FlaskClient:
    return intake_app.test_client()


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    assert match, f"no hidden field {name}"
    return match.group(1)


def open_form(client: FlaskClient, lang: str = "de") -> dict[str, str]:
    page = client.get(f"/{lang}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return {
        "csrf_token": hidden_value(html, "csrf_token"),
        "form_token": hidden_value(html, "form_token"),
    }


def post_report(
    client: FlaskClient,
    data: dict[str, Any],
    lang: str = "de",
    tokens: dict[str, str] | None = None,
) -> TestResponse:
    tokens = tokens or open_form(client, lang)
    return client.post(
        f"/{lang}/report", data={**tokens, **data}, content_type="multipart/form-data"
    )


def receipt_code(response: TestResponse) -> str:
    # The code's groups are elements of their own (they must not break on a narrow screen).
    match = re.search(r'id="receipt-code"[^>]*>(.*?)</strong>', response.get_data(as_text=True))
    assert match, "no receipt code on the page"
    return re.sub(r"<[^>]*>", "", match.group(1)).strip()
