"""Whole flows through the Flask test client, with CSRF protection on (never disabled)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import TestResponse

from app.codebook import current_codebook
from app.crypto import keyring
from app.extensions import db
from app.intake.steps import Step, steps_of


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
    """The hidden fields of the form's first step."""
    page = client.get(f"/{lang}/report")
    assert page.status_code == 200
    return page_fields(page.get_data(as_text=True))


def page_fields(html: str) -> dict[str, str]:
    """The hidden fields a step page carries: the CSRF token and the signed state."""
    return {name: hidden_value(html, name) for name in ("csrf_token", "form_state")}


def kept_answers(response: TestResponse | str) -> dict[str, Any]:
    """The answers a step page carries in its signed state (read, not verified: for tests)."""
    html = response if isinstance(response, str) else response.get_data(as_text=True)
    payload = hidden_value(html, "form_state").rsplit(".", 2)[0]
    state = URLSafeTimedSerializer("unused").load_payload(payload.encode())
    assert isinstance(state, dict)
    return dict(state["a"])


def shown_step(response: TestResponse) -> int | None:
    """The number of the step a page shows (None for a page that is no step)."""
    html = response.get_data(as_text=True)
    if 'name="form_state"' not in html:
        return None
    payload = hidden_value(html, "form_state").rsplit(".", 2)[0]
    return int(URLSafeTimedSerializer("unused").load_payload(payload.encode())["s"])


def step_answers(data: dict[str, Any], step: Step) -> dict[str, Any]:
    """Of a whole report's answers, those a step asks for; keys that are no question (the
    honeypot, say) go with every step."""
    questions = current_codebook().questions
    return {
        key: value
        for key, value in data.items()
        if key not in questions or any(q.id == key for q in step.questions)
    }


def walk_to_step(
    client: FlaskClient,
    data: dict[str, Any],
    number: int | None = None,
    lang: str = "de",
    **options: Any,
) -> tuple[TestResponse, dict[str, Any]]:
    """Fill each step as a person does and press "Weiter" up to step ``number`` (the last one
    if None); return that step's page and what sending it would post, or the first page that
    did not lead on and an empty dict."""
    steps = steps_of(current_codebook())
    page = client.get(f"/{lang}/report", **options)
    for step in steps:
        fields = {**page_fields(page.get_data(as_text=True)), **step_answers(data, step)}
        if step.final or step.number == number:
            return page, {**fields, "action": "send" if step.final else "next"}
        page = client.post(
            f"/{lang}/report", data={**fields, "action": "next"},
            content_type="multipart/form-data", **options,
        )  # fmt: skip
        if page.status_code != 200 or shown_step(page) != step.number + 1:
            return page, {}
    raise AssertionError("the form has no last step")  # pragma: no cover


def walk_to_last_step(
    client: FlaskClient, data: dict[str, Any], lang: str = "de", **options: Any
) -> tuple[TestResponse, dict[str, Any]]:
    return walk_to_step(client, data, None, lang, **options)


def post_report(
    client: FlaskClient,
    data: dict[str, Any],
    lang: str = "de",
    tokens: Mapping[str, str | None] | None = None,
    **options: Any,
) -> TestResponse:
    """Walk the steps and send the last one; the first page that does not lead on is returned.

    ``tokens`` change the hidden fields of the sending post (None leaves a field out), e.g. an
    expired or missing security token; ``options`` go to the client's ``post``.
    """
    page, final = walk_to_last_step(client, data, lang, **options)
    if not final:
        return page
    for name, value in (tokens or {}).items():
        if value is None:
            final.pop(name, None)
        else:
            final[name] = value
    return client.post(f"/{lang}/report", data=final, content_type="multipart/form-data", **options)


def receipt_code(response: TestResponse) -> str:
    # The code's groups are elements of their own (they must not break on a narrow screen).
    match = re.search(r'id="receipt-code"[^>]*>(.*?)</strong>', response.get_data(as_text=True))
    assert match, "no receipt code on the page"
    return re.sub(r"<[^>]*>", "", match.group(1)).strip()
