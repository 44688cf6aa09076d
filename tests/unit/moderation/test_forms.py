"""Staff forms check the shape of what was sent; refusals carry their own words and status."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from app.codebook import current_codebook
from app.models import User
from app.moderation import cases
from app.moderation.accounts import LastAdmin, WeakPassword, check_password_strength
from app.moderation.forms import QueueFilterForm, first_error

CONFLICTS = [
    cases.TransitionNotAllowed("closed", "received"),
    cases.CaseNotCoded("not coded"),
    cases.DuplicateRefused("cycle"),
    cases.PersonalDataGone("purged"),
    cases.SealedDataUnreadable("keys"),
]


@pytest.mark.parametrize("refused", CONFLICTS, ids=lambda refused: refused.reason)
def test_what_the_case_forbids_is_a_conflict(app: Flask, refused: cases.CaseRefused) -> None:
    assert refused.status == 409
    with app.test_request_context(), force_locale("de"):
        german = refused.message
    with app.test_request_context(), force_locale("en"):
        english = refused.message
    assert german
    assert english
    assert german != english


def test_bad_input_is_unprocessable_and_names_the_question(app: Flask) -> None:
    assert cases.AssigneeNotAllowed("nobody").status == 422
    refused = cases.InvalidCoding("incident_types")
    assert refused.status == 422
    assert refused.reason == "coding"
    label = current_codebook().question("incident_types").label
    for language in ("de", "en"):
        with app.test_request_context(), force_locale(language):
            assert label(language) in refused.message
    with app.test_request_context():
        assert "„not_a_question“" in cases.InvalidCoding("not_a_question").message


def test_account_refusals_speak_english_to_the_cli_and_the_page_language_to_staff(
    app: Flask,
) -> None:
    with pytest.raises(WeakPassword) as weak:
        check_password_strength("short")
    assert str(weak.value) == "The password is too short: it needs at least 12 characters."
    with app.test_request_context(), force_locale("de"):
        assert weak.value.message == "Das Passwort ist zu kurz: es braucht mindestens 12 Zeichen."
    with app.test_request_context(), force_locale("en"):
        assert weak.value.message == "The password is too short: it needs at least 12 characters."
    last = LastAdmin("The last admin cannot be removed.", message="x")
    assert last.message == "x"


def _queue_form(app: Flask, query: dict[str, str]) -> QueueFilterForm:
    return QueueFilterForm(
        MultiDict(query), codebook=current_codebook(),
        states={"received": "Eingegangen"}, workers={7: "a@example.org"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ({"state": "deleted"}, "Stand"),
        ({"land": "xx"}, "Bundesland"),
        ({"type": "murder"}, "Schwerste Vorfallsart"),
        ({"assigned": "8"}, "Zugewiesen an"),
        ({"messages": "ja"}, "Nur Fälle mit Nachrichten"),
        ({"after": "0"}, "after"),
        ({"from": "2026-13-01"}, "Eingegangen ab"),
        ({"to": "1989-12-31"}, "Eingegangen bis"),
    ],
)
def test_a_filter_off_the_list_is_refused_by_its_label(
    app: Flask, query: dict[str, str], label: str
) -> None:
    with app.test_request_context(), force_locale("de"):
        form = _queue_form(app, query)
        assert not form.validate()
        assert f"Der Filter „{label}“ ist ungültig" in (first_error(form) or "")


def test_valid_filters_become_the_services_filters(app: Flask) -> None:
    me = User(id=3, email="me@example.org", role="moderator")
    query = {"state": "received", "land": "be", "from": "2026-01-02", "assigned": "me",
             "messages": "1", "after": "42"}  # fmt: skip
    with app.test_request_context():
        form = _queue_form(app, query)
        assert form.validate(), form.errors
        filters, after = form.filters(me)
    assert filters.states == ("received",)
    assert filters.land == "be"
    assert filters.received_from == dt.date(2026, 1, 2)
    assert filters.received_to is None
    assert filters.assigned_to == 3
    assert filters.with_messages
    assert after == 42
    with app.test_request_context():
        form = _queue_form(app, {"assigned": "7", "state": "all"})
        assert form.validate()
        filters, after = form.filters(me)
    assert filters.states == ()
    assert filters.assigned_to == 7
    assert after is None
