"""What a visitor's first pages cost, relative to a bare Flask endpoint."""

from __future__ import annotations

import secrets
import tempfile
from functools import partial

from app import create_app
from bench.harness import bare_client, per_call_seconds, report


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {"ENV_NAME": "testing", "INSTANCE_PATH": instance, "SECRET_KEY": secrets.token_hex()}
        )
        client = app.test_client()
        bare = bare_client()
        baseline = per_call_seconds(lambda: bare.get("/"))
        rows = [
            (f"GET {path}", per_call_seconds(partial(client.get, path)))
            for path in (
                "/healthz",
                "/",
                "/de/",
                "/de/network",
                "/en/help",
                "/de/imprint",
                "/de/report",
            )
        ]
        report(rows, baseline)


if __name__ == "__main__":
    main()
