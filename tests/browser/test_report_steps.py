"""The report form's steps in a real Chromium at 320 px, in every language, with JavaScript and
as Tor Browser at "Safest" (no JavaScript, no SVG, no downloadable font): progress shown,
answers kept going back, axe clean on every step, the receipt and the status page, no sideways
scrolling, and support asked for without a contact is said plainly before sending."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_report_form
from tests.browser.conftest import PHONE, PageFactory, at_safest_level, font_requests
from tests.browser.test_public_pages import axe_violations, larger_text, sideways_scrolling
from tests.browser.test_report_form import (
    BACK,
    STEPS,
    SUBMIT,
    VALID_REPORT,
    Value,
    fill_step,
    next_step,
    open_path,
    receipt_code,
    screenshot,
    send,
    shown_step,
)
from tests.pages import LANGUAGES, say

pytestmark = pytest.mark.browser
# The report form's server: a database and organisation keys (one for this module).
intake_server = test_report_form.intake_server

SUPPORT = (
    "Sie möchten Unterstützung, haben aber keine Kontaktmöglichkeit angegeben. Dann kann sich das"
    " Netzwerk nur über die Statusseite bei Ihnen melden: mit Ihrem Code unter „Meldung ansehen"
    " (mit Code)“. Wenn Sie möchten, tragen Sie hier eine E-Mail-Adresse ein."
)
ANSWERS: dict[str, Value] = {**VALID_REPORT, "support_wished": "counselling_referral"}


def phone_problems(page: Page, where: str, *, javascript: bool) -> list[str]:
    """axe at 320 px (where scripts run: without them Chromium never fires axe's timers, and
    the call would never return) and no sideways scrolling, also with the browser's text at
    200 %; one line per problem."""
    problems = [f"{where}: {line}" for line in axe_violations(page)] if javascript else []
    problems += sideways_scrolling(page, where)
    larger_text(page)
    problems += sideways_scrolling(page, f"{where} with 200 % text")
    page.evaluate("document.documentElement.style.fontSize = ''")
    return problems


@pytest.mark.parametrize("javascript", [False, True], ids=["safest", "js"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_whole_journey_in_steps_on_a_phone(
    new_page: PageFactory, intake_server: str, lang: str, javascript: bool
) -> None:
    page = new_page(viewport=PHONE, java_script_enabled=javascript)
    # Without scripts also without SVG, as Tor Browser at "Safest" (test_statistics_phone.py
    # shows the charts there).
    requested, _blocked = at_safest_level(page) if not javascript else ([], [])
    open_path(page, intake_server, f"/{lang}/report")
    problems: list[str] = []
    optional = next(step for step in STEPS if step.optional)
    for step in STEPS:
        number = step.number
        assert shown_step(page) == number
        expect(page.locator("#step-progress-label")).to_contain_text(
            say(lang, "Schritt %(number)s von %(count)s", number=number, count=len(STEPS))
        )
        progress = page.locator("progress")
        expect(progress).to_have_attribute("value", str(number))
        expect(progress).to_have_attribute("aria-labelledby", "step-progress-label")
        expect(page.locator(".step-list [aria-current=step]")).to_have_count(1)
        expect(page.locator(".step-time")).to_be_visible()  # the time it still takes
        problems += phone_problems(page, f"/{lang}/report step {number}", javascript=javascript)
        if number == 1 and javascript:
            screenshot(page, f"{lang}-report-320.png", full_page=True)
        fill_step(page, lang, ANSWERS)
        if number == 2:
            # Back and forth: the answers of both steps are still there.
            send(page, page.get_by_role("button", name=BACK[lang], exact=True))
            assert shown_step(page) == 1
            expect(page.locator("#date_kind-0")).to_be_checked()
            expect(page.locator("#incident_date")).to_have_value(str(ANSWERS["incident_date"]))
            next_step(page, lang)
            assert shown_step(page) == 2
            expect(page.locator("#land")).to_have_value("sn")
        if step.final:
            break
        if number == optional.number:
            skip = say(lang, "Weiter ohne diese Angaben")
            expect(page.get_by_role("button", name=skip, exact=True)).to_be_visible()
        next_step(page, lang)

    # Support asked for, no contact given: said where the contact is asked, before sending.
    notice = page.locator("#support-without-contact")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(say(lang, SUPPORT))
    send(page, page.get_by_role("button", name=SUBMIT[lang], exact=True))

    # The receipt, and the status page opened with its code, in the same language.
    code = receipt_code(page)
    assert page.locator("#receipt-code").get_attribute("dir") == "ltr"
    problems += phone_problems(page, f"/{lang}/report receipt", javascript=javascript)
    if javascript:
        screenshot(page, f"{lang}-receipt-320.png", full_page=True)
    page.locator("#kept").check()
    send(page, page.get_by_role("button", name=say(lang, "Weiter"), exact=True))
    open_path(page, intake_server, f"/{lang}/report/status")
    page.locator("#code").fill(code)
    send(page, page.get_by_role("button", name=say(lang, "Meldung öffnen"), exact=True))
    expect(page.locator("#text")).to_be_visible()
    problems += phone_problems(page, f"/{lang}/report/status", javascript=javascript)
    if javascript:
        screenshot(page, f"{lang}-status-320.png", full_page=True)
    assert problems == [], "\n".join(problems)
    assert font_requests(requested) == []


def test_the_optional_step_is_skipped_without_javascript(
    new_page: PageFactory, intake_server: str
) -> None:
    page = new_page(viewport=PHONE, java_script_enabled=False)
    open_path(page, intake_server, "/de/report")
    optional = next(step for step in STEPS if step.optional)
    while shown_step(page) < optional.number:
        fill_step(page, "de", ANSWERS)
        next_step(page, "de")
    expect(page.locator(".step-optional")).to_contain_text("freiwillig")
    fill_step(page, "de", ANSWERS)  # the wish for support, then skipped after all
    send(page, page.get_by_role("button", name=say("de", "Weiter ohne diese Angaben"), exact=True))
    assert shown_step(page) == optional.number + 1
    expect(page.locator("#support-without-contact")).to_have_count(0)  # the wish was skipped
    send(page, page.get_by_role("button", name=BACK["de"], exact=True))
    assert shown_step(page) == optional.number
    expect(page.locator("#support_wished-0")).not_to_be_checked()
