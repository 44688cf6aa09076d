"""The queue and the case page, with refused input, in a real Chromium, without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Incident
from app.models.user import MODERATOR
from tests.browser.conftest import PageFactory, keyed_app, serving
from tests.browser.test_public_pages import axe_violations
from tests.factories import store_sample_report
from tests.staff import Staff, make_staff

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def staff_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Staff, int]]:
    """A migrated app with an organisation key, one report and a moderator."""
    app, recovery = keyed_app(tmp_path_factory.mktemp("staff") / "instance")
    with app.test_request_context():
        store_sample_report(app.config["RECEIPT_SECRET"].encode())
        moderator = make_staff(MODERATOR, recovery)
        case_id = db.session.scalars(select(Incident.id)).one()
        db.session.commit()
    with serving(app) as base_url:
        yield base_url, moderator, case_id


def test_refused_staff_input_is_shown_accessibly(
    new_page: PageFactory, staff_server: tuple[str, Staff, int]
) -> None:
    base_url, moderator, case_id = staff_server
    page = new_page()
    page.goto(base_url + "/moderation/login")
    page.locator("input[name=email]").fill(moderator.email)
    page.locator("input[name=password]").fill(moderator.password)
    page.locator("input[name=code]").fill(moderator.recovery_codes.pop())
    page.locator("form button[type=submit]").first.click()

    queue = page.goto(base_url + "/moderation/queue?from=gestern&land=xx")
    assert queue is not None
    assert queue.status == 400
    assert page.locator("#from").get_attribute("aria-describedby") == "from-error"
    assert "Eingegangen ab" in page.locator("#from-error").inner_text()
    problems = [f"queue: {line}" for line in axe_violations(page)]

    page.goto(f"{base_url}/moderation/cases/{case_id}")
    page.locator("#original").fill("zwei")
    page.get_by_role("button", name="Duplikat speichern").click()
    assert page.locator("#original").input_value() == "zwei"
    assert page.locator("#original").get_attribute("aria-invalid") == "true"
    assert "gibt es nicht" in page.locator("#case-error").inner_text()
    problems += [f"case: {line}" for line in axe_violations(page)]
    assert problems == []
