"""Fixtures for the browser tests: one live server and one Chromium for the whole session.

Chromium comes from the system (Debian's package), never from ``playwright install``: the
machines this runs on cannot download browsers. A missing Chromium fails the run loudly.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    ViewportSize,
    sync_playwright,
)
from werkzeug.serving import make_server

from app import create_app
from app.crypto import keyring
from app.devserver import AddressFreeRequestHandler
from app.extensions import db

CHROMIUM = os.environ.get("MELDEPORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 320, "height": 640}

# Pages whose context runs no scripts: Chromium still evaluates what a test sends, but never
# fires its timers, so axe (which waits on them) would never return there.
SCRIPTLESS_PAGES: weakref.WeakSet[Page] = weakref.WeakSet()

# Builds a fresh page in a fresh context; keyword arguments go to ``Browser.new_context``.
PageFactory = Callable[..., Page]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve a testing app on a free loopback port; yield its base URL without a slash."""
    app = create_app(
        {
            "ENV_NAME": "testing",
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("browser") / "instance"),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SESSION_COOKIE_SECURE": False,
        }
    )
    with serving(app) as base_url:
        yield base_url


def keyed_app(instance: Path) -> tuple[Flask, str]:
    """A testing app on a migrated SQLite database in ``instance``, with the organisation's keys
    (reports can be sent and opened); returns it and the recovery key."""
    app = create_app(
        {
            "ENV_NAME": "testing",
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "RECEIPT_SECRET": secrets.token_urlsafe(48),
            "SESSION_COOKIE_SECURE": False,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        recovery = keyring.initialise_keys(dt.date.today())
        db.session.commit()
    return app, recovery


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yield its base URL without a slash."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=AddressFreeRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM!r}. The browser tests need the system Chromium: "
            "run `apt-get install chromium` (or set MELDEPORTAL_CHROMIUM to its path)."
        )
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, live_server: str) -> Iterator[Browser]:
    # Depends on live_server so that the browser (and its keep-alive connections) closes
    # before the server shuts down.
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[PageFactory]:
    """Open pages in fresh contexts (desktop size unless told); all are closed after the test."""
    contexts: list[BrowserContext] = []

    def factory(**options: Any) -> Page:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        if not options.get("java_script_enabled", True):
            SCRIPTLESS_PAGES.add(page)
        return page

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: PageFactory) -> Page:
    """A page at desktop size in a fresh context."""
    return new_page()


FONT_FILES = (".woff", ".woff2", ".ttf", ".otf", ".eot")


def at_safest_level(page: Page) -> tuple[list[Request], list[str]]:
    """Make ``page`` (opened with JavaScript off) behave as Tor Browser at "Safest": every SVG
    image is refused. Returns the list every request of the page is recorded in (to check that
    no font file is asked for) and the list of refused SVG addresses."""
    requested: list[Request] = []
    blocked: list[str] = []
    page.on("request", lambda request: requested.append(request))

    def no_svg(route: Route) -> None:
        if route.request.url.split("?")[0].lower().endswith(".svg"):
            blocked.append(route.request.url)
            route.abort()
            return
        response = route.fetch()
        if "image/svg+xml" in response.headers.get("content-type", ""):
            blocked.append(route.request.url)
            route.abort()
            return
        route.fulfill(response=response)

    page.route("**/*", no_svg)
    return requested, blocked


def font_requests(requested: list[Request]) -> list[str]:
    return [
        request.url
        for request in requested
        if request.resource_type == "font" or request.url.split("?")[0].lower().endswith(FONT_FILES)
    ]
