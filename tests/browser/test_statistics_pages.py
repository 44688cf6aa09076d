"""The public statistics page and the research area in a real Chromium, without JavaScript."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest

from app import create_app
from app.demo import generate_demo_incidents
from app.extensions import db
from app.models.user import RESEARCHER
from tests.browser.conftest import DESKTOP, PHONE, PageFactory, serving
from tests.browser.test_public_pages import (
    SCREENSHOT_DIR,
    axe_violations,
    sideways_scrolling,
)
from tests.integration.test_statistics import many
from tests.pages import LANGUAGES
from tests.staff import Staff, make_staff

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def statistics_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Staff]]:
    """A migrated app with demo data (as `flask demo generate` makes it), a few small groups
    (published perturbed, as 0 or from k on, like every other number), and a researcher
    account."""
    app = create_app(
        {
            "ENV_NAME": "testing",
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("statistics") / "instance"),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "RECEIPT_SECRET": secrets.token_urlsafe(48),
            "SESSION_COOKIE_SECURE": False,
        }
    )
    today = dt.date.today()
    with app.test_request_context():
        flask_migrate.upgrade()
        generate_demo_incidents(3000, today=today, seed=3)
        for back, (land, count) in enumerate([("be", 30), ("nw", 24), ("by", 17), ("sn", 6)]):
            day = dt.date(today.year - back % 2, max(1, today.month - back), 3)
            many(count, day=day, coded_land=land)
        many(9, day=dt.date(today.year - 1, 2, 1), coded_land="he", types=("threat",))
        many(2, day=dt.date(today.year - 1, 2, 1), coded_land="hb", types=("assault",))
        researcher = make_staff(RESEARCHER, None)
        db.session.commit()
    with serving(app) as base_url:
        yield base_url, researcher


# Last year always has demo data; a year without published numbers would answer 404.
LAST_YEAR = dt.date.today().year - 1


@pytest.mark.parametrize(
    "path", [f"/{lang}/statistics" for lang in LANGUAGES] + [f"/ar/statistics?year={LAST_YEAR}"]
)
def test_the_public_page_works_without_javascript_and_passes_axe(
    new_page: PageFactory, statistics_server: tuple[str, Staff], path: str
) -> None:
    base_url, _researcher = statistics_server
    bare = new_page(java_script_enabled=False)
    response = bare.goto(base_url + path)
    assert response is not None
    assert response.status == 200
    # Each chart one picture of HTML and CSS, shown at every width.
    assert bare.locator("svg").count() == 0
    assert bare.locator("figure.chart > [role=img]:visible").count() == 4
    assert bare.locator("table.statistics").count() == 4
    # Nothing is withheld or marked any more; the page says instead that every number moved.
    assert bare.locator("table.statistics abbr").count() == 0
    if path.startswith("/de/"):
        assert bare.get_by_text("ist jede Zahl leicht verändert").count() == 1
    # The year links lead to the same page for that year (no script involved).
    bare.get_by_role("link", name=str(dt.date.today().year), exact=True).click()
    assert bare.url.endswith(f"year={dt.date.today().year}")
    # axe itself is a script: it runs in a page that allows scripts (the site sends none).
    page = new_page()
    page.goto(base_url + path)
    # The only script is the quick exit's (base.html); the page needs none.
    assert page.locator("script:not([src$='/js/quick-exit.js'])").count() == 0
    problems = [f"desktop: {line}" for line in axe_violations(page)]
    page.set_viewport_size(PHONE)
    problems += sideways_scrolling(page, "phone")
    problems += [f"phone: {line}" for line in axe_violations(page)]
    assert problems == []


def test_a_researcher_builds_a_table_and_it_passes_axe(
    new_page: PageFactory, statistics_server: tuple[str, Staff], tmp_path: Path
) -> None:
    base_url, researcher = statistics_server
    page = new_page()
    page.goto(base_url + "/moderation/login")
    page.locator("input[name=email]").fill(researcher.email)
    page.locator("input[name=password]").fill(researcher.password)
    page.locator("input[name=code]").fill(researcher.recovery_codes.pop())
    page.locator("form button[type=submit]").first.click()
    page.goto(base_url + "/research/")
    page.select_option("#rows", "land")
    page.select_option("#columns", "period")
    page.get_by_role("button", name="Tabelle erstellen").click()
    assert "rows=land" in page.url
    assert page.locator("script").count() == 0
    assert page.locator("table.statistics tbody tr").count() == 16
    # Bremen's two of last February are perturbed like every other cell, not withheld.
    assert page.locator("table.statistics abbr").count() == 0
    bremen = page.locator("table.statistics tbody tr").filter(
        has=page.get_by_role("rowheader", name="Bremen", exact=True)
    )
    numbers = bremen.locator("td").all_inner_texts()
    assert numbers
    assert all(text.isdigit() and not 0 < int(text) < 5 for text in numbers), numbers
    problems = [f"desktop: {line}" for line in axe_violations(page)]
    page.set_viewport_size(PHONE)
    problems += sideways_scrolling(page, "phone")
    problems += [f"phone: {line}" for line in axe_violations(page)]
    assert problems == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Als CSV herunterladen").click()
    target = tmp_path / "table.csv"
    download.value.save_as(target)
    assert target.read_text(encoding="utf-8").startswith("land,land_label,period,")


def test_screenshots_of_the_statistics(
    new_page: PageFactory, statistics_server: tuple[str, Staff]
) -> None:
    base_url, _researcher = statistics_server
    for lang in LANGUAGES:
        for name, viewport in (
            (f"{lang}-statistics-1280.png", DESKTOP),
            (f"{lang}-statistics-320.png", PHONE),
        ):
            page = new_page(viewport=viewport, java_script_enabled=False)
            page.goto(f"{base_url}/{lang}/statistics")
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT_DIR / name), full_page=True)
            assert (SCREENSHOT_DIR / name).read_bytes().startswith(b"\x89PNG")
