"""The report form and the follow-up pages in a real Chromium.

The whole journey works without JavaScript on a 320 px phone; the script only hides questions
that do not apply yet. Errors keep every answer and lead to the field; every state of every page
passes axe at 1280 and 320 px without sideways scrolling; the keyboard reaches everything with a
visible focus.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FilePayload, Locator, Page, expect

from app.codebook import current_codebook
from app.extensions import db
from app.intake.steps import steps_of
from tests.browser.conftest import DESKTOP, PHONE, PageFactory, keyed_app, serving
from tests.browser.test_public_pages import (
    SCREENSHOT_DIR,
    axe_violations,
    has_visible_focus_indicator,
    is_in_viewport,
    sideways_scrolling,
)
from tests.pages import LANGUAGES, say

pytestmark = pytest.mark.browser

CODEBOOK = current_codebook()
STEPS = steps_of(CODEBOOK)
NEXT = {lang: say(lang, "Weiter") for lang in LANGUAGES}
SUBMIT = {lang: say(lang, "Meldung absenden") for lang in LANGUAGES}
BACK = {lang: say(lang, "Zurück") for lang in LANGUAGES}
RECEIPT_CODE = re.compile(r"^([0-9A-Z]{4}-){4}[0-9A-Z]{4}$")
# A few days back: valid whatever the time zone of the server's "today" (UTC).
INCIDENT_DAY = (dt.date.today() - dt.timedelta(days=3)).isoformat()

# An answer: a code (or several) for choices, text for text, True or False for checkboxes.
Value = str | list[str] | bool

# A valid report by question id.
VALID_REPORT: dict[str, Value] = {
    "role": "witness",
    "date_kind": "exact",
    "incident_date": INCIDENT_DAY,
    "land": "sn",
    "place_type": "public_transport",
    "incident_types": ["verbal_abuse"],
    "description": "Im Bus wurde eine Frau wegen ihres Kopftuchs beschimpft.",
    "target": "person",
    "consent_special_categories": True,
}

# Conditional questions, by the answer that shows them (codebook show_if).
ONLINE_QUESTIONS = ("#q-platform", "#q-online_link")
DATE_QUESTIONS = {
    "exact": ("#q-incident_date",),
    "month": ("#q-incident_month",),
    "period": ("#q-period_start", "#q-period_end"),
}

# Facts about the focused element, read in the page (also the input type, unlike the one in
# test_public_pages).
FOCUSED_CONTROL_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute("type") || "",
    id: el.id,
    text: el.textContent.trim().replace(/\\s+/g, " ").slice(0, 60),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
    top: box.top, left: box.left, bottom: box.bottom, right: box.right,
    width: box.width, height: box.height,
    viewportWidth: window.innerWidth, viewportHeight: window.innerHeight,
  };
}"""

# The top of a focused text box that must be on screen: its first lines, where one types.
TEXT_BOX_TOP = 48

REMOVE_REQUIRED_JS = (
    "() => document.querySelectorAll('[required]').forEach(el => el.required = false)"
)


@pytest.fixture(scope="module")
def intake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve a testing app with a migrated database and organisation keys; yield its base URL.

    The shared live_server has neither, and the report form needs both. Contexts are closed by
    new_page at the end of each test, before this server shuts down.
    """
    app, _ = keyed_app(tmp_path_factory.mktemp("report-form") / "instance")
    try:
        with serving(app) as base_url:
            yield base_url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- Helpers ---------------------------------------------------------------------------------


def open_path(page: Page, base_url: str, path: str) -> None:
    response = page.goto(base_url + path)
    assert response is not None, path
    assert response.status == 200, f"{path}: HTTP {response.status}"


def send(page: Page, button: Locator, status: int = 200) -> None:
    """Click a submit button; the page it leads to (after redirects) must have ``status``."""
    with page.expect_navigation() as navigation:
        button.click()
    response = navigation.value
    assert response is not None
    assert response.status == status, f"{response.url}: HTTP {response.status}, not {status}"


def group(page: Page, legend: str) -> Locator:
    """A fieldset, found by its legend as a screen reader names it."""
    return page.get_by_role("group", name=legend)


def as_codes(value: Value) -> list[str]:
    """The answer codes of a choice: one or several."""
    assert not isinstance(value, bool), value
    return [value] if isinstance(value, str) else value


def answer(page: Page, lang: str, question_id: str, value: Value) -> None:
    """Answer one question by its labels in ``lang`` (as the codebook words them)."""
    question = CODEBOOK.question(question_id)
    box = page.locator(f"#q-{question_id}")
    if question.kind in {"single", "multi"}:
        for code in as_codes(value):
            box.get_by_label(question.answer(code).label(lang), exact=True).check()
    elif question.kind == "select":
        assert isinstance(value, str)
        label = question.answer(value).label(lang)
        box.get_by_label(question.label(lang)).select_option(label=label)
    elif question.kind in {"consent", "flag"}:
        box.get_by_label(question.label(lang)).set_checked(bool(value))
    else:
        assert isinstance(value, str)
        box.get_by_label(question.label(lang)).fill(value)


def shown_step(page: Page) -> int:
    label = page.locator("#step-progress-label").inner_text()
    found = re.search(r"\d+", label)
    assert found, label
    return int(found.group())


def fill_step(page: Page, lang: str, answers: dict[str, Value]) -> None:
    """Answer the questions of ``answers`` that the shown step asks."""
    for question_id, value in answers.items():
        if page.locator(f"#q-{question_id}").count():
            answer(page, lang, question_id, value)


def next_step(page: Page, lang: str, status: int = 200) -> None:
    send(page, page.get_by_role("button", name=NEXT[lang], exact=True), status)


def fill_valid_report(
    page: Page,
    lang: str,
    answers: dict[str, Value] | None = None,
    *,
    until: int | None = None,
    on_each_step: Any = None,
) -> None:
    """Fill each step and go on, up to step ``until`` (filled, not left) or to the last step."""
    while True:
        number = shown_step(page)
        if on_each_step is not None:
            on_each_step(number)
        fill_step(page, lang, VALID_REPORT if answers is None else answers)
        if number == until or number == len(STEPS):
            return
        next_step(page, lang)
        assert shown_step(page) == number + 1


def audit(page: Page, where: str) -> list[str]:
    """axe at 1280 and 320 px, and no sideways scrolling at 320 px; one line per problem."""
    page.set_viewport_size(DESKTOP)
    problems = [f"{where} at {DESKTOP['width']}px: {line}" for line in axe_violations(page)]
    page.set_viewport_size(PHONE)
    problems += sideways_scrolling(page, f"{where} at {PHONE['width']}px")
    problems += [f"{where} at {PHONE['width']}px: {line}" for line in axe_violations(page)]
    page.set_viewport_size(DESKTOP)
    return problems


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Keep a picture for a person to look at; never fails a test."""
    with contextlib.suppress(PlaywrightError, OSError):
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / name), full_page=full_page)


def focused(page: Page) -> dict[str, Any] | None:
    result: dict[str, Any] | None = page.evaluate(FOCUSED_CONTROL_JS)
    return result


def is_scrolled_to(focused: dict[str, Any]) -> bool:
    """All of the focused element is on screen; of a tall text box, its top lines.

    Chromium does not scroll a focused element that is partly visible, so a tall text box near
    the bottom edge stays cut off; the lines where one types are what must be seen.
    """
    if focused["tag"] != "textarea":
        return is_in_viewport(focused)
    return (
        focused["top"] >= 0
        and focused["top"] + TEXT_BOX_TOP <= focused["viewportHeight"]
        and focused["left"] >= 0
        and focused["right"] <= focused["viewportWidth"]
    )


def receipt_code(page: Page) -> str:
    code = page.locator("#receipt-code").inner_text().strip()
    assert RECEIPT_CODE.fullmatch(code), f"not a receipt code: {code!r}"
    return code


# --- Tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_step_passes_axe_and_fits_a_320px_screen(
    new_page: PageFactory, intake_server: str, lang: str
) -> None:
    page = new_page(viewport=DESKTOP)
    continue_label = say(lang, "Weiter")
    open_label = say(lang, "Meldung öffnen")
    send_label = say(lang, "Verschlüsselt senden")
    submit_label = SUBMIT[lang]

    open_path(page, intake_server, f"/{lang}/report")
    page.evaluate(REMOVE_REQUIRED_JS)
    next_step(page, lang, 422)
    expect(page.locator(".error-summary[role=alert]")).to_be_visible()
    problems = audit(page, "form step 1 with errors")

    def audit_step(number: int) -> None:
        problems.extend(audit(page, f"form step {number}"))

    fill_valid_report(page, lang, on_each_step=audit_step)
    page.evaluate(REMOVE_REQUIRED_JS)
    page.locator("#consent_special_categories").uncheck()
    send(page, page.get_by_role("button", name=submit_label, exact=True), 422)
    problems += audit(page, "last step with errors")
    fill_step(page, lang, VALID_REPORT)
    send(page, page.get_by_role("button", name=submit_label, exact=True))
    code = receipt_code(page)
    problems += audit(page, "receipt")

    page.locator("#kept").check()
    send(page, page.get_by_role("button", name=continue_label, exact=True))
    problems += audit(page, "thanks")

    open_path(page, intake_server, f"/{lang}/report/status")
    problems += audit(page, "code form")
    page.locator("#code").fill(code)
    send(page, page.get_by_role("button", name=open_label, exact=True))
    expect(page.locator("#text")).to_be_visible()
    problems += audit(page, "status")
    page.locator("#text").fill("Danke")
    send(page, page.get_by_role("button", name=send_label, exact=True))
    expect(page.locator(".messages .message-text")).to_have_text(["Danke"])
    # Persian with a non-joiner, a ZWJ emoji and an override are sent as typed and shown in an
    # element whose direction controls stay inside it.
    said = "می\u200cخواهم 🤦\u200d♀\ufe0f \u202eumgedreht"
    page.locator("#text").fill(said)
    send(page, page.get_by_role("button", name=send_label, exact=True))
    shown = page.locator(".messages .message-text")
    expect(shown).to_have_text(["Danke", said])
    assert shown.last.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
    assert shown.last.get_attribute("dir") == "auto"
    problems += audit(page, "status with a message")

    assert problems == [], f"/{lang}/report:\n" + "\n".join(problems)


def test_a_person_reports_and_follows_up_on_a_phone_without_javascript(
    new_page: PageFactory, intake_server: str
) -> None:
    page = new_page(java_script_enabled=False, viewport=PHONE)
    open_path(page, intake_server, "/de/report")

    group(page, "Was trifft auf Sie zu?").get_by_label(
        "Ich habe es selbst erlebt.", exact=True
    ).check()
    group(page, "Wie genau wissen Sie, wann es war?").get_by_label(
        "Ich weiß den genauen Tag.", exact=True
    ).check()
    page.get_by_label("Datum", exact=True).fill(INCIDENT_DAY)
    expect(page.locator("#step-progress-label")).to_contain_text("Schritt 1 von 6")
    next_step(page, "de")
    page.get_by_label("Bundesland").select_option(label="Sachsen")
    group(page, "An was für einem Ort ist es passiert?").get_by_label(
        "In Bus oder Bahn, an einer Haltestelle oder einem Bahnhof", exact=True
    ).check()
    next_step(page, "de")
    group(page, "Welche Art von Vorfall war es?").get_by_label(
        "Beleidigung oder Beschimpfung", exact=True
    ).check()
    page.get_by_label("Beschreiben Sie bitte, was passiert ist.").fill(
        "In der Straßenbahn wurde ich wegen meines Kopftuchs beschimpft."
    )
    next_step(page, "de")
    group(page, "Gegen wen richtete sich der Vorfall?").get_by_label(
        "Gegen eine einzelne Person", exact=True
    ).check()
    next_step(page, "de")
    send(page, page.get_by_role("button", name="Weiter ohne diese Angaben", exact=True))
    expect(page.locator("#step-progress-label")).to_contain_text("Schritt 6 von 6")
    page.get_by_label("Ich willige ausdrücklich ein").check()
    send(page, page.get_by_role("button", name="Meldung absenden", exact=True))

    expect(page.get_by_role("heading", level=1)).to_have_text("Danke. Ihre Meldung ist angekommen.")
    code = receipt_code(page)
    page.get_by_label("Ich habe meinen Code notiert oder gespeichert.").check()
    send(page, page.get_by_role("button", name="Weiter", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Danke für Ihre Meldung")

    open_path(page, intake_server, "/de/report/status")
    page.get_by_label("Ihr Code").fill(code.lower().replace("-", " "))
    send(page, page.get_by_role("button", name="Meldung öffnen", exact=True))
    expect(page.locator(".state")).to_contain_text("Eingegangen")

    page.get_by_label("Ihr Text").fill("Danke")
    send(page, page.get_by_role("button", name="Verschlüsselt senden", exact=True))
    expect(page.get_by_role("status")).to_contain_text("Ihre Nachricht ist verschlüsselt")
    expect(page.locator(".messages .message-text")).to_have_text(["Danke"])

    send(page, page.get_by_role("button", name="Verlassen", exact=True))
    expect(page.get_by_label("Ihr Code")).to_be_visible()
    expect(page.get_by_label("Ihr Code")).to_have_value("")
    expect(page.get_by_role("status")).to_contain_text("Sie haben die Ansicht verlassen")
    expect(page.locator("#text")).to_have_count(0)


def test_questions_that_do_not_apply_yet_are_hidden_with_javascript(
    new_page: PageFactory, intake_server: str
) -> None:
    page = new_page(viewport=PHONE)
    open_path(page, intake_server, "/de/report")
    when = group(page, "Wie genau wissen Sie, wann es war?")
    for selector in (q for qs in DATE_QUESTIONS.values() for q in qs):
        expect(page.locator(selector)).to_be_hidden()
    labels = {
        "exact": "Ich weiß den genauen Tag.",
        "month": "Ich weiß nur den Monat.",
        "period": "Es war in einem Zeitraum oder ging über längere Zeit.",
    }
    for kind, label in labels.items():
        when.get_by_label(label, exact=True).check()
        for other, selectors in DATE_QUESTIONS.items():
            for selector in selectors:
                if other == kind:
                    expect(page.locator(selector)).to_be_visible()
                else:
                    expect(page.locator(selector)).to_be_hidden()
    when.get_by_label(labels["exact"], exact=True).check()

    fill_valid_report(page, "de", until=2)  # the place
    place = group(page, "An was für einem Ort ist es passiert?")
    for selector in ONLINE_QUESTIONS:
        expect(page.locator(selector)).to_be_hidden()
    place.get_by_label("Im Internet", exact=True).check()
    for selector in ONLINE_QUESTIONS:
        expect(page.locator(selector)).to_be_visible()
    expect(page.get_by_label("Wo im Internet ist es passiert?")).to_be_visible()
    place.get_by_label("Bei der Arbeit", exact=True).check()
    for selector in ONLINE_QUESTIONS:
        expect(page.locator(selector)).to_be_hidden()

    # A select and a checkbox lead to questions the same way as radio buttons.
    page.get_by_role("combobox", name="Stadt oder Gemeinde").select_option(
        label="Eine andere Stadt oder Gemeinde (nicht in der Liste)"
    )
    expect(page.locator("#q-town_other")).to_be_visible()
    page.get_by_role("combobox", name="Stadt oder Gemeinde").select_option(label="Leipzig")
    expect(page.locator("#q-town_other")).to_be_hidden()

    optional = next(step for step in STEPS if step.optional)
    next_step(page, "de")
    fill_valid_report(page, "de", until=optional.number)
    nowhere = group(page, "Haben Sie den Vorfall schon woanders gemeldet?").get_by_label(
        "Nein, nirgendwo", exact=True
    )
    expect(page.locator("#q-why_not")).to_be_hidden()
    nowhere.check()
    expect(page.locator("#q-why_not")).to_be_visible()
    expect(page.locator("#q-why_not_text")).to_be_visible()
    nowhere.uncheck()
    expect(page.locator("#q-why_not")).to_be_hidden()
    expect(page.locator("#q-why_not_text")).to_be_hidden()


def test_too_many_or_too_large_images_are_named_before_anything_is_sent(
    new_page: PageFactory, intake_server: str
) -> None:
    page = new_page(viewport=PHONE)
    open_path(page, intake_server, "/de/report")
    fill_valid_report(page, "de")  # images are chosen on the last step, with sending
    images = page.locator("#images")
    small = FilePayload(name="klein.png", mimeType="image/png", buffer=b"\x89PNG" + b"\0" * 100)
    too_large = b"\xff" * (10 * 1024 * 1024 + 1)
    big = FilePayload(name="riesig.jpg", mimeType="image/jpeg", buffer=too_large)
    images.set_input_files([small] * 6)
    expect(page.locator("#images-limits")).to_have_text("Bitte wählen Sie höchstens 5 Bilder.")
    assert images.evaluate("input => input.validity.customError")
    images.set_input_files([small, big])
    expect(page.locator("#images-limits")).to_have_text("„riesig.jpg“ ist größer als 10 MB.")
    images.set_input_files([small])
    expect(page.locator("#images-limits")).to_be_hidden()
    assert not images.evaluate("input => input.validity.customError")


def test_without_javascript_every_question_is_shown_with_its_condition(
    new_page: PageFactory, intake_server: str
) -> None:
    page = new_page(java_script_enabled=False, viewport=PHONE)
    open_path(page, intake_server, "/de/report")
    for selector in (q for qs in DATE_QUESTIONS.values() for q in qs):
        expect(page.locator(selector)).to_be_visible()
        expect(page.locator(selector).locator(".condition")).to_be_visible()
    fill_valid_report(page, "de", until=2)
    for selector in ONLINE_QUESTIONS:
        expect(page.locator(selector)).to_be_visible()
        expect(page.locator(selector).locator(".condition")).to_be_visible()
    expect(page.locator("#q-platform .condition")).to_contain_text("„Im Internet“")


@pytest.mark.parametrize(
    ("lang", "markers"),
    [("de", ("(freiwillig)", "(Pflichtangabe)")), ("en", ("(optional)", "(required)"))],
)
def test_each_question_says_once_whether_it_must_be_answered(
    new_page: PageFactory, intake_server: str, lang: str, markers: tuple[str, str]
) -> None:
    # A screen reader reads the whole label; "optional (optional)" is noise, also to the eye.
    page = new_page(java_script_enabled=False, viewport=PHONE)
    open_path(page, intake_server, f"/{lang}/report")
    names: list[str] = []

    def collect(_number: int) -> None:
        names.extend(
            page.evaluate(
                """() => Array.from(
                  document.querySelectorAll(
                    ".report-form legend, .report-form .question label[for]"),
                  el => el.textContent.trim().replace(/\\s+/g, " "))"""
            )
        )

    fill_valid_report(page, lang, on_each_step=collect)
    assert len(names) > 30, names
    repeated = [name for name in names if any(name.count(marker) > 1 for marker in markers)]
    assert repeated == [], "marked twice:\n" + "\n".join(repeated)


def test_an_error_keeps_every_answer_and_leads_to_the_field(
    new_page: PageFactory, intake_server: str
) -> None:
    # No JavaScript: the browser still checks `required`, so the description is a lone space,
    # which the server strips and then misses.
    page = new_page(java_script_enabled=False, viewport=PHONE)
    open_path(page, intake_server, "/de/report")
    extra: dict[str, Value] = {
        "time_of_day": "evening",
        "town": "leipzig",
        "district": "Eisenbahnstraße",
        "incident_types": ["verbal_abuse", "threat"],
        "perceived_because": ["headscarf", "language"],
        "gender": "woman",
        "perpetrator_description": "Ein Mann, etwa 50 Jahre alt.",
        "reported_elsewhere": ["none"],
        "why_not": ["no_trust"],
        "consent_publication": True,
    }
    answers = {**VALID_REPORT, **extra, "description": " "}
    fill_valid_report(page, "de", answers, until=3)  # the description's step
    next_step(page, "de", 422)
    assert shown_step(page) == 3

    summary = page.locator(".error-summary[role=alert]")
    expect(summary).to_be_visible()
    links = summary.get_by_role("link")
    expect(links).to_have_count(1)
    link = links.first
    expect(link).to_have_attribute("href", "#description")
    expect(link).to_contain_text("Beschreiben Sie bitte, was passiert ist.")
    expect(link).to_contain_text("Bitte beantworten Sie diese Frage.")
    screenshot(page, "report-form-320-error-nojs.png")

    description = page.locator("#description")
    expect(description).to_have_attribute("aria-invalid", "true")
    expect(description).to_have_attribute("aria-describedby", re.compile(r"\bdescription-error\b"))
    expect(page.locator("#description-error")).to_contain_text("Bitte beantworten Sie")

    link.click()
    page.wait_for_function("() => window.location.hash === '#description'")
    now = focused(page)
    assert now is not None, "following the error link focused nothing"
    assert now["id"] == "description", now
    assert is_in_viewport(now), f"the description is not on screen: {now}"

    # Every other answer is still there: on this step, and going back, on the steps before.
    check_answers_kept(page, answers)
    for number in (2, 1):
        send(page, page.get_by_role("button", name="Zurück", exact=True))
        assert shown_step(page) == number
        check_answers_kept(page, answers)


def check_answers_kept(page: Page, answers: dict[str, Value]) -> None:
    """Each answer to a question of the shown step is still given (the description aside)."""
    for question_id, value in answers.items():
        box = page.locator(f"#q-{question_id}")
        if question_id == "description" or not box.count():
            continue
        question = CODEBOOK.question(question_id)
        if question.kind in {"single", "multi"}:
            chosen = as_codes(value)
            for code in question.codes:
                option = box.get_by_label(question.answer(code).label("de"), exact=True)
                if code in chosen:
                    expect(option, f"{question_id}={code}").to_be_checked()
                else:
                    expect(option, f"{question_id}={code}").not_to_be_checked()
        elif question.kind == "select":
            expect(box.locator("select"), question_id).to_have_value(str(value))
        elif question.kind in {"consent", "flag"}:
            expect(box.get_by_role("checkbox"), question_id).to_be_checked(checked=bool(value))
        else:
            expect(box.locator("input, textarea"), question_id).to_have_value(str(value))


def test_keyboard_reaches_the_form_after_the_navigation_with_visible_focus(
    new_page: PageFactory, intake_server: str
) -> None:
    page = new_page(viewport=DESKTOP)
    open_path(page, intake_server, "/de/report")
    kinds: set[tuple[str, str]] = set()
    for number in (1, 2, 3):  # radios, dates; selects; a text box
        before_form, in_form = tab_through_the_form(page)
        link_texts = [link["text"] for link in before_form]
        assert link_texts[:1] == ["Zum Inhalt springen"], link_texts
        assert "Melden" in link_texts, f"the navigation was not passed on the way: {link_texts}"
        # Skip link, quick exit, brand, Leichte Sprache, five navigation links, and the
        # language switch's other languages.
        most = 9 + len(LANGUAGES) - 1
        assert len(link_texts) <= most, f"too many stops before the form: {link_texts}"
        if number == 1:
            first = in_form[0]
            assert (first["tag"], first["type"], first["id"]) == ("input", "radio", "role-0")
        assert in_form[-1]["text"] == "Weiter", in_form[-1]
        seen = [*before_form, *in_form]
        without_focus = [el for el in seen if not has_visible_focus_indicator(el)]
        off_screen = [el for el in seen if not is_scrolled_to(el)]
        assert without_focus == [], f"focused without visible indicator: {without_focus}"
        assert off_screen == [], f"focused but not scrolled into view: {off_screen}"
        kinds |= {(el["tag"], el["type"]) for el in in_form}
        fill_valid_report(page, "de", until=number)
        next_step(page, "de")
    for kind in [("input", "radio"), ("select", ""), ("textarea", ""), ("button", "submit")]:
        assert kind in kinds, f"Tab never reached a {kind}: {sorted(kinds)}"


def tab_through_the_form(page: Page) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What Tab reaches from the top of the page: the links before the form, then the form's
    controls up to its first submit button ("Weiter")."""
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    before_form: list[dict[str, Any]] = []
    in_form: list[dict[str, Any]] = []
    for _ in range(300):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now is not None, f"Tab left the page before the submit button; last: {in_form[-1:]}"
        if not in_form and now["tag"] == "a":
            before_form.append(now)
            continue
        in_form.append(now)
        if now["tag"] == "button" and now["type"] == "submit":
            break
    return before_form, in_form


def test_screenshots_of_the_form_on_a_phone(new_page: PageFactory, intake_server: str) -> None:
    page = new_page(viewport=PHONE)
    open_path(page, intake_server, "/de/report")
    screenshot(page, "report-form-320-top.png")
    screenshot(page, "report-form-320-full.png", full_page=True)

    page.evaluate(REMOVE_REQUIRED_JS)
    next_step(page, "de", 422)
    page.locator(".error-summary").scroll_into_view_if_needed()
    screenshot(page, "report-form-320-errors.png")
    screenshot(page, "report-form-320-errors-full.png", full_page=True)

    def shoot(number: int) -> None:
        screenshot(page, f"report-form-320-step{number}-full.png", full_page=True)

    fill_valid_report(page, "de", on_each_step=shoot)
    send(page, page.get_by_role("button", name="Meldung absenden", exact=True))
    receipt_code(page)
    screenshot(page, "report-receipt-320.png", full_page=True)
