"""The report form in steps: what each step keeps, and what a hostile or stale state gets."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import func, select

from app.codebook import current_codebook
from app.extensions import db
from app.intake.steps import STATE_SALT, FormState, binding, sign_state, steps_of
from app.intake.tokens import issue_form_token
from app.models import Report
from tests.factories import report_form_data
from tests.functional.conftest import (
    kept_answers,
    page_fields,
    post_report,
    receipt_code,
    shown_step,
    step_answers,
    walk_to_last_step,
    walk_to_step,
)

STEPS = steps_of(current_codebook())
IMAGES_AGAIN = "bitte wählen Sie sie noch einmal aus"


def report_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count(Report.id))) or 0)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def send(client: FlaskClient, fields: dict[str, Any], **options: Any) -> Any:
    return client.post("/de/report", data=fields, content_type="multipart/form-data", **options)


def test_every_section_is_on_exactly_one_step_required_ones_first() -> None:
    codebook = current_codebook()
    on_steps = [section.id for step in STEPS for section in step.sections]
    assert sorted(on_steps) == sorted(section.id for section in codebook.sections)
    assert len(on_steps) == len(set(on_steps))
    final = STEPS[-1]
    assert final.final
    assert "images" in {q.id for q in final.questions}  # chosen with sending, never carried
    optional = [step for step in STEPS if step.optional]
    assert optional
    required_steps = [step.number for step in STEPS if not step.optional and not step.final]
    assert max(required_steps) < min(step.number for step in optional)


def test_each_step_shows_its_progress_in_both_languages(intake_app: Flask) -> None:
    client = intake_app.test_client()
    for lang, words in (("de", "Schritt {} von {}"), ("en", "Step {} of {}")):
        page = client.get(f"/{lang}/report").get_data(as_text=True)
        assert words.format(1, len(STEPS)) in page
        assert f'<progress max="{len(STEPS)}" value="1"' in page
        assert 'aria-current="step"' in page
        assert "Minute" in page or "minute" in page  # the time it takes
        step3, _fields = walk_to_step(client, report_form_data(), 3, lang=lang)
        assert words.format(3, len(STEPS)) in step3.get_data(as_text=True)


def test_going_back_keeps_every_answer(intake_app: Flask) -> None:
    client = intake_app.test_client()
    data = report_form_data(description="Das bleibt beim Zurückgehen")
    final, sending = walk_to_last_step(client, data)
    sending["contact_email"] = "ich@example.org"
    page = final
    for number in range(len(STEPS) - 1, 0, -1):  # back to the first step, one at a time
        # A browser sends the fields of the page it leaves, as they are filled in.
        shown = kept_answers(page)
        if number == len(STEPS) - 1:
            shown["contact_email"] = "ich@example.org"
        fields = {**page_fields(page.get_data(as_text=True)), "action": "back"}
        page = send(client, {**fields, **step_answers(shown, STEPS[number])})
        assert page.status_code == 200
        assert shown_step(page) == number
        if number == 3:
            assert "Das bleibt beim Zurückgehen</textarea>" in page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert 'checked id="role-0"' in html or 'id="role-0" checked' in html or "checked" in html
    kept = kept_answers(page)
    assert kept["description"] == "Das bleibt beim Zurückgehen"
    assert kept["contact_email"] == "ich@example.org"  # typed on the step it went back from
    assert kept["land"] == "sn"
    # And forward again to sending, without typing anything again.
    for number in range(1, len(STEPS)):
        shown = step_answers(kept_answers(page), STEPS[number - 1])
        page = send(client, {**page_fields(page.get_data(as_text=True)), **shown,
                             "action": "next"})  # fmt: skip
        assert page.status_code == 200
    shown = step_answers(kept_answers(page), STEPS[-1])
    shown["consent_special_categories"] = "y"  # the ticked box, as a browser sends it
    done = send(client, {**page_fields(page.get_data(as_text=True)), **shown, "action": "send"})
    assert done.status_code == 200
    assert receipt_code(done)


def test_the_optional_step_can_be_skipped_and_drops_only_its_own_answers(
    intake_app: Flask,
) -> None:
    client = intake_app.test_client()
    optional = next(step for step in STEPS if step.optional)
    page, fields = walk_to_step(client, report_form_data(), optional.number)
    assert "Weiter ohne diese Angaben" in page.get_data(as_text=True)
    skipped = send(client, {**fields, "action": "skip"})
    assert shown_step(skipped) == optional.number + 1
    kept = kept_answers(skipped)
    assert "perpetrator_description" not in kept
    assert kept["description"] == report_form_data()["description"]
    assert "skip" not in page_fields(skipped.get_data(as_text=True))  # nothing else changed
    required = next(step for step in STEPS if not step.optional)
    page, fields = walk_to_step(client, report_form_data(role=None), required.number)
    refused = send(client, {**fields, "action": "skip"})  # a required step cannot be skipped
    assert refused.status_code == 422
    assert shown_step(refused) == required.number


def test_a_step_with_errors_stays_and_sending_checks_every_step_again(
    intake_app: Flask,
) -> None:
    client = intake_app.test_client()
    page, fields = walk_to_step(client, report_form_data(), 3)
    fields["incident_types"] = []
    refused = send(client, fields)
    assert refused.status_code == 422
    assert shown_step(refused) == 3
    # A hostile client signs nothing: it can only send a state it got, and sending checks it all.
    page, sending = walk_to_last_step(client, report_form_data())
    secret = intake_app.config["SECRET_KEY"]
    with client.session_transaction() as session:
        csrf_secret = session["csrf_token"]
    state = FormState(len(STEPS), len(STEPS), {"role": "affected"}, issue_form_token(secret))
    sending["form_state"] = sign_state(secret, state, binding(csrf_secret))
    answer = send(client, sending)
    assert answer.status_code == 422
    assert shown_step(answer) == 1 + next(  # the first step that lacks an answer
        n for n, step in enumerate(STEPS) if any(q.required and q.id != "role"
                                                for q in step.questions)
    )  # fmt: skip
    assert report_count(intake_app) == 0


def test_a_state_from_another_session_is_refused_with_a_notice(intake_app: Flask) -> None:
    """Replayed into another person's browser, a state brings nothing in."""
    victim, attacker = intake_app.test_client(), intake_app.test_client()
    _page, theirs = walk_to_last_step(attacker, report_form_data(description="Untergeschoben"))
    _page, mine = walk_to_last_step(victim, report_form_data())
    answer = send(victim, {**mine, "form_state": theirs["form_state"]})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "Angaben aus den anderen Schritten" in html
    assert "description" not in kept_answers(answer)
    assert report_count(intake_app) == 0


@pytest.mark.parametrize("problem", ["expired", "tampered", "not_ours", "missing"])
def test_a_stale_or_forged_state_gets_a_clear_4xx(intake_app: Flask, problem: str) -> None:
    client = intake_app.test_client()
    _page, fields = walk_to_step(client, report_form_data(), 3)
    secret = intake_app.config["SECRET_KEY"]
    state = fields["form_state"]
    if problem == "expired":
        intake_app.config["WTF_CSRF_TIME_LIMIT"] = 1
        time.sleep(2.1)
    elif problem == "tampered":
        payload, stamp, signature = state.rsplit(".", 2)
        fields["form_state"] = f"{payload}.{stamp}.{signature[::-1]}"
    elif problem == "not_ours":
        forged = URLSafeTimedSerializer("another-secret", salt=STATE_SALT)
        fields["form_state"] = forged.dumps({"s": 6, "r": 6, "a": {}, "t": "x", "b": "y"})
    else:
        del fields["form_state"]
    answer = send(client, fields)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'role="alert"' in html
    assert kept_answers(answer)["description"] == report_form_data()["description"]
    assert report_count(intake_app) == 0
    assert secret  # the app's own secret was never needed by the client


# --- Every page that loses chosen images says to choose them again ------------------------


def _with_images(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "images": [(io.BytesIO(png()), "beweis.png")]}


def test_too_fast_asks_for_the_images_again(intake_app: Flask) -> None:
    intake_app.config["INTAKE_MIN_FILL_SECONDS"] = 60
    answer = post_report(intake_app.test_client(), _with_images(report_form_data()))
    assert answer.status_code == 400
    assert IMAGES_AGAIN in answer.get_data(as_text=True)


def test_an_expired_security_token_asks_for_the_images_again(intake_app: Flask) -> None:
    answer = post_report(intake_app.test_client(), _with_images(report_form_data()),
                         tokens={"csrf_token": "abgelaufen"})  # fmt: skip
    assert answer.status_code == 400
    assert IMAGES_AGAIN in answer.get_data(as_text=True)


def test_an_ended_session_asks_for_the_images_again(intake_app: Flask) -> None:
    client = intake_app.test_client()
    _page, sending = walk_to_last_step(client, _with_images(report_form_data()))
    with client.session_transaction() as session:
        session.clear()
    answer = send(client, sending)
    assert answer.status_code == 400
    assert IMAGES_AGAIN in answer.get_data(as_text=True)


def test_the_rate_limit_asks_for_the_images_again(intake_app: Flask) -> None:
    intake_app.config["REPORT_RATE_LIMIT"] = "1 per hour"
    client = intake_app.test_client()
    environ = {"REMOTE_ADDR": "198.51.100.78"}
    assert post_report(client, report_form_data(), environ_base=environ).status_code == 200
    answer = post_report(client, _with_images(report_form_data()), environ_base=environ)
    assert answer.status_code == 429
    assert IMAGES_AGAIN in answer.get_data(as_text=True)


def test_the_honeypot_asks_for_the_images_again(intake_app: Flask) -> None:
    client = intake_app.test_client()
    _page, sending = walk_to_last_step(client, _with_images(report_form_data()))
    answer = send(client, {**sending, "website": "http://spam.example"})
    assert answer.status_code == 400
    assert IMAGES_AGAIN in answer.get_data(as_text=True)


def test_an_error_on_an_earlier_step_asks_for_the_images_again(intake_app: Flask) -> None:
    client = intake_app.test_client()
    page, sending = walk_to_last_step(client, _with_images(report_form_data()))
    secret = intake_app.config["SECRET_KEY"]
    with client.session_transaction() as session:
        csrf_secret = session["csrf_token"]
    answers = {**kept_answers(page), "description": ""}
    state = FormState(len(STEPS), len(STEPS), answers, issue_form_token(secret))
    answer = send(client, {**sending, "form_state": sign_state(secret, state,
                                                               binding(csrf_secret))})  # fmt: skip
    assert answer.status_code == 422
    assert shown_step(answer) == 3
    assert IMAGES_AGAIN in answer.get_data(as_text=True)


def test_going_back_from_the_last_step_asks_for_the_images_again(intake_app: Flask) -> None:
    client = intake_app.test_client()
    _page, sending = walk_to_last_step(client, _with_images(report_form_data()))
    answer = send(client, {**sending, "action": "back"})
    assert answer.status_code == 200
    assert IMAGES_AGAIN in answer.get_data(as_text=True)


def test_a_refused_image_asks_for_the_images_again(intake_app: Flask) -> None:
    data = {**report_form_data(), "images": [(io.BytesIO(b"kein Bild"), "x.png")]}
    answer = post_report(intake_app.test_client(), data)
    assert answer.status_code == 422
    assert IMAGES_AGAIN in answer.get_data(as_text=True)


def test_a_page_without_chosen_images_does_not_mention_them(intake_app: Flask) -> None:
    intake_app.config["INTAKE_MIN_FILL_SECONDS"] = 60
    answer = post_report(intake_app.test_client(), report_form_data())
    assert answer.status_code == 400
    assert IMAGES_AGAIN not in answer.get_data(as_text=True)


# --- Support without a way to be reached -------------------------------------------------


def test_support_without_contact_is_said_plainly_before_sending(intake_app: Flask) -> None:
    client = intake_app.test_client()
    wish = report_form_data(support_wished="counselling_referral")
    page, sending = walk_to_last_step(client, wish)
    html = page.get_data(as_text=True)
    assert 'id="support-without-contact"' in html
    assert "nur über die Statusseite" in html
    # With an address typed there the notice goes; without, sending still works (it was said).
    assert post_report(client, {**wish, "contact_email": "ich@example.org"}).status_code == 200
    assert send(client, sending).status_code == 200
    plain, _sending = walk_to_last_step(client, report_form_data())
    assert 'id="support-without-contact"' not in plain.get_data(as_text=True)
    english, _sending = walk_to_last_step(client, wish, lang="en")
    assert "only get in touch with you through the status page" in english.get_data(as_text=True)
