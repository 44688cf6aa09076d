"""What each step of the report form costs, against a bare Jinja page of the same size.

A blank step is rendered once per language, step, codebook and day and then served with only
its per-request values put in (app/intake/views.py). The yardstick is a page of the same byte
size rendered from a plain template in the same app (same layout, hooks, headers and commit).
Throughput ratios are printed: ``1 / time``, relative to that page, so 1.0 means as fast.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from functools import partial

from flask import render_template_string

from app import create_app
from app.codebook import current_codebook
from app.intake.steps import FormState, binding, sign_state, steps_of
from app.intake.tokens import issue_form_token
from bench.harness import bare_client, per_call_seconds

BARE_PAGE = """{% extends "base.html" %}{% block title %}Bench{% endblock %}
{% block content %}<h1>Bench</h1><p>{{ filler }}</p>{% endblock %}"""


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        secret = secrets.token_hex()
        app = create_app({"ENV_NAME": "testing", "INSTANCE_PATH": instance, "SECRET_KEY": secret})

        @app.get("/<lang:lang>/bench-bare/<int:size>")
        def bare_page(size: int) -> str:
            # Filler that needs no escaping, so the template does the same work per byte.
            return render_template_string(BARE_PAGE, filler="x" * size)

        client = app.test_client()
        bare = bare_client()
        baseline = per_call_seconds(lambda: bare.get("/"))
        steps = steps_of(current_codebook())
        page = client.get("/de/report").get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page)
        assert match
        csrf = match.group(1)
        with client.session_transaction() as session:
            csrf_secret = str(session["csrf_token"])
        state = sign_state(
            secret,
            FormState(1, len(steps), {}, issue_form_token(secret)),
            binding(csrf_secret),
        )
        print(f"{'step page (blank), de':<34} {'bytes':>7} {'µs':>8} {'× bare Flask':>13} "
              f"{'same-size Jinja µs':>19} {'× that page':>12}")  # fmt: skip
        for step in steps:
            if step.number == 1:
                serve = partial(client.get, "/de/report")
                how = "GET"
            else:  # a blank later step is reached by POST (here: the step list's "goto")
                form = {"csrf_token": csrf, "form_state": state, "action": f"goto-{step.number}"}
                serve = partial(client.post, "/de/report", data=form)
                how = "POST"
            response = serve()
            assert response.status_code == 200, response.status_code
            assert f"Schritt {step.number} von" in response.get_data(as_text=True)
            size = len(response.get_data())
            empty = len(client.get("/de/bench-bare/0").get_data())
            same_size = partial(client.get, f"/de/bench-bare/{max(size - empty, 0)}")
            assert abs(len(same_size().get_data()) - size) < 16
            step_seconds = per_call_seconds(serve, number=100)
            bare_seconds = per_call_seconds(same_size, number=100)
            name = f"{step.number} ({how}) {step.title('de')[:22]}"
            print(
                f"{name:<34} {size:>7} "
                f"{step_seconds * 1e6:>8.0f} {baseline / step_seconds:>13.3f} "
                f"{bare_seconds * 1e6:>19.0f} {bare_seconds / step_seconds:>12.2f}"
            )
        print(f"(bare Flask endpoint: {baseline * 1e6:.0f} µs; × columns are throughput ratios)")


if __name__ == "__main__":
    main()
