"""The codebook's rules for one submission, shared by the form and the partner API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask

from app.codebook import current_codebook
from app.codebook.answers import (
    InvalidAnswers,
    month_end,
    parse_answers,
    parse_date,
    parse_month,
)
from tests.factories import TODAY, report_form_data


@pytest.fixture(autouse=True)
def request_context(app: Flask) -> Any:
    with app.test_request_context("/de/report"):
        yield


def errors_for(**changes: Any) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as caught:
        parse_answers(current_codebook(), report_form_data(**changes), TODAY)
    return caught.value.errors


def test_the_sample_is_valid_and_split_into_clear_and_sealed() -> None:
    answers = parse_answers(current_codebook(), report_form_data(), TODAY)
    assert answers.choices["land"] == "sn"
    assert answers.multi["incident_types"] == ["verbal_abuse", "threat"]
    assert answers.dates == {"incident_date": dt.date(2026, 11, 1)}
    assert answers.flags["consent_special_categories"] is True
    assert set(answers.texts) == {"description", "district", "perpetrator_description"}
    assert "Straßenbahn" not in repr(answers)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", dt.date(2026, 3, 1)),
        ("1.3.2026", dt.date(2026, 3, 1)),
        ("01.03.2026", dt.date(2026, 3, 1)),
        ("2026-02-30", None),
        ("31.04.2026", None),
        ("2026/03/01", None),
        ("gestern", None),
        ("", None),
    ],
)
def test_dates_in_iso_or_german_form(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03", dt.date(2026, 3, 1)),
        ("3.2026", dt.date(2026, 3, 1)),
        ("03/2026", dt.date(2026, 3, 1)),
        ("2026-13", None),
        ("März 2026", None),
    ],
)
def test_months(text: str, expected: dt.date | None) -> None:
    assert parse_month(text) == expected


def test_month_end() -> None:
    assert month_end(dt.date(2024, 2, 1)) == dt.date(2024, 2, 29)


def test_required_questions_are_named() -> None:
    for question in ("role", "date_kind", "land", "place_type", "incident_types", "description",
                     "target", "consent_special_categories"):  # fmt: skip
        assert question in errors_for(**{question: None}), question


@pytest.mark.parametrize(
    ("kind", "needed"),
    [("exact", "incident_date"), ("month", "incident_month"), ("period", "period_start")],
)
def test_date_questions_are_required_only_for_their_kind(kind: str, needed: str) -> None:
    errors = errors_for(date_kind=kind, incident_date=None)
    assert needed in errors
    assert set(errors) <= {"incident_date", "incident_month", "period_start", "period_end"}


def test_period_must_not_end_before_it_starts() -> None:
    errors = errors_for(date_kind="period", period_start="2026-05-10", period_end="2026-05-01")
    assert "period_end" in errors


def test_future_and_ancient_dates_are_refused() -> None:
    assert "incident_date" in errors_for(incident_date="2027-01-01")
    assert "incident_date" in errors_for(incident_date="1989-12-31")


def test_online_incidents_need_a_platform_and_a_real_link() -> None:
    assert "platform" in errors_for(place_type="online")
    errors = errors_for(place_type="online", platform="telegram", online_link="javascript:alert(1)")
    assert "online_link" in errors


def test_hidden_questions_are_dropped_even_when_filled() -> None:
    answers = parse_answers(
        current_codebook(),
        report_form_data(town_other="Geheimdorf", platform="tiktok", why_not=None),
        TODAY,
    )
    assert "town_other" not in answers.texts  # only asked when the town is "other"
    assert "platform" not in answers.choices  # only asked for online incidents


@pytest.mark.parametrize(
    "changes",
    [
        {"land": "xx"},
        {"role": "<script>alert(1)</script>"},
        {"incident_types": ["verbal_abuse", "made_up"]},
        {"role": ["affected", "witness"]},
        {"description": ["a", "b"]},
        {"description": 42},
        {"description": "x" * 10001},
        {"description": "\x00\u200b\ufeff \u200d"},  # nothing visible: not an answer
        {"contact_email": "not an address"},
        {"incident_types": {"a": 1}},
    ],
)
def test_hostile_or_wrong_values_get_a_message(changes: dict[str, Any]) -> None:
    errors = errors_for(**changes)
    (question,) = changes
    assert question in errors
    assert errors[question]


def test_script_tags_in_free_text_are_kept_as_text() -> None:
    text = "<script>alert('x')</script> und <b>fett</b>"
    answers = parse_answers(current_codebook(), report_form_data(description=text), TODAY)
    assert answers.texts["description"] == text  # stored sealed; escaped whenever shown


def test_line_breaks_survive_and_crlf_is_normalised() -> None:
    answers = parse_answers(
        current_codebook(), report_form_data(description="Zeile 1\r\nZeile 2\tEnde"), TODAY
    )
    assert answers.texts["description"] == "Zeile 1\nZeile 2\tEnde"


@pytest.mark.parametrize(
    "text",
    [
        "می\u200cخواهم",  # Persian with a zero-width non-joiner
        "🤦\u200d♀\ufe0f und 🏳\ufe0f\u200d🌈",  # ZWJ emoji
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland's flag
        "\u061cقال \u200fمرحبا",  # Arabic letter mark and right-to-left mark
        "Antidiskriminierungs\u00adstelle",  # soft hyphen
        "Text mit \u202eumgedrehter Schrift",  # shown isolated, so it cannot turn the page
    ],
)
def test_text_in_any_script_is_kept_as_typed(text: str) -> None:
    data = report_form_data(description=text, district=text, perpetrator_description=text)
    answers = parse_answers(current_codebook(), data, TODAY)
    assert answers.texts["description"] == text
    assert answers.texts["district"] == text
    assert answers.texts["perpetrator_description"] == text


def test_harmful_characters_are_removed_not_refused() -> None:
    typed = "\ufeffText\x00 mit\x1b Nullbyte\ud800\r\nZeile\u2028zwei\ufffe"
    answers = parse_answers(current_codebook(), report_form_data(description=typed), TODAY)
    assert answers.texts["description"] == "Text mit Nullbyte\nZeile\nzwei"


def test_length_is_counted_after_normalising() -> None:
    limit = current_codebook().question("description").max_length
    assert limit is not None
    # Every CRLF counts as one line break, removed characters not at all.
    typed = "x\r\n" * (limit // 2) + "\x00" * 100
    assert len(typed) > limit
    answers = parse_answers(current_codebook(), report_form_data(description=typed), TODAY)
    assert len(answers.texts["description"]) == limit - 1  # the last line break is trimmed
    assert "description" in errors_for(description="x" * (limit + 1))


def test_an_optional_text_of_invisible_characters_is_not_stored() -> None:
    answers = parse_answers(
        current_codebook(), report_form_data(district="\u200b\u200e \x00"), TODAY
    )
    assert "district" not in answers.texts


@pytest.mark.parametrize(
    ("changes", "question", "stored"),
    [
        ({"contact_email": "\u200fname@example.org\u200e"}, "contact_email", "name@example.org"),
        (
            {"place_type": "online", "platform": "x_twitter",
             "online_link": "\u200f https://example.org/post\u200b"},
            "online_link",
            "https://example.org/post",
        ),
    ],
)  # fmt: skip
def test_addresses_copied_with_invisible_marks_are_read(
    changes: dict[str, Any], question: str, stored: str
) -> None:
    answers = parse_answers(current_codebook(), report_form_data(**changes), TODAY)
    assert answers.texts[question] == stored


def test_consent_accepts_checkbox_and_json_forms() -> None:
    for value in (True, "y", "on", "true", "1"):
        answers = parse_answers(
            current_codebook(), report_form_data(consent_special_categories=value), TODAY
        )
        assert answers.flags["consent_special_categories"] is True
    for value in (False, "n", "", "off"):
        assert "consent_special_categories" in errors_for(consent_special_categories=value)


def test_every_answer_of_every_choice_question_is_accepted() -> None:
    codebook = current_codebook()
    visible_for: dict[str, dict[str, Any]] = {
        "platform": {"place_type": "online"},
        "why_not": {"reported_elsewhere": ["none"]},
    }
    for question in codebook.questions.values():
        for code in question.codes:
            value: Any = [code] if question.kind == "multi" else code
            # A platform is required once the place is online; elsewhere it is dropped.
            changes: dict[str, Any] = {"platform": "facebook", **visible_for.get(question.id, {}),
                       question.id: value}  # fmt: skip
            if question.id == "date_kind":
                changes.update(incident_month="2026-10", period_start="2026-09-01",
                               period_end="2026-09-30")  # fmt: skip
            answers = parse_answers(codebook, report_form_data(**changes), TODAY)
            stored = answers.multi.get(question.id) or [answers.choices.get(question.id, "")]
            assert code in stored, (question.id, code)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"date_kind": "month", "incident_month": "0000-01"}, "zu weit zurück"),
        ({"date_kind": "month", "incident_month": "01/0000"}, "zu weit zurück"),
        ({"date_kind": "month", "incident_month": "9999-12"}, "Zukunft"),
        ({"incident_date": "0000-01-01"}, "zu weit zurück"),
        ({"incident_date": "00.01.0000"}, "Format"),
        ({"incident_date": "31.12.9999"}, "Zukunft"),
        ({"date_kind": "period", "period_start": "0000-02-29", "period_end": "2026-01-01"},
         "Format"),
    ],
)  # fmt: skip
def test_dates_at_the_calendars_edges_are_refused_with_a_message(
    changes: dict[str, Any], message: str
) -> None:
    """Year 0 and 9999 once raised inside ``datetime`` (a 500 that lost the typed form)."""
    errors = errors_for(**changes)
    question = [name for name in changes if name != "date_kind"][0]
    assert message in errors[question]


def test_parse_month_reads_year_0_as_too_early_rather_than_failing() -> None:
    assert parse_month("0000-01") == dt.date.min
    assert parse_date("0000-01-01") == dt.date.min
    assert parse_date("29.02.0000") is None  # year 1, the stand-in, has no 29 February


def test_the_form_reads_leniently_what_browsers_and_people_send() -> None:
    answers = parse_answers(
        current_codebook(),
        report_form_data(land=" sn ", incident_types="threat", incident_date="1.11.2026",
                         consent_special_categories="yes"),
        TODAY,
    )  # fmt: skip
    assert answers.choices["land"] == "sn"
    assert answers.multi["incident_types"] == ["threat"]
    assert answers.dates["incident_date"] == dt.date(2026, 11, 1)


JSON_NULL = "<null>"  # None in ``changes`` leaves a question out; this sends null


def strict_errors(**changes: Any) -> dict[str, str]:
    data = report_form_data(**{"consent_special_categories": True, **changes})
    data.update({key: None for key, value in data.items() if value == JSON_NULL})
    with pytest.raises(InvalidAnswers) as caught:
        parse_answers(current_codebook(), data, TODAY, strict=True)
    return caught.value.errors


def test_strict_reading_accepts_the_documented_json() -> None:
    data = report_form_data(consent_special_categories=True, consent_publication=False)
    answers = parse_answers(current_codebook(), data, TODAY, strict=True)
    assert answers.flags == {"consent_special_categories": True, "consent_publication": False}


@pytest.mark.parametrize(
    ("changes", "question", "message"),
    [
        ({"consent_special_categories": "yes"}, "consent_special_categories", "true oder false"),
        ({"consent_special_categories": 1}, "consent_special_categories", "true oder false"),
        ({"consent_publication": "false"}, "consent_publication", "true oder false"),
        ({"role": ["affected"]}, "role", "ein Text"),
        ({"description": 5}, "description", "ein Text"),
        ({"incident_types": "threat"}, "incident_types", "Liste von Antwortcodes"),
        ({"incident_types": ["threat", "threat"]}, "incident_types", "nur einmal"),
        ({"gender": JSON_NULL}, "gender", "ein Text"),
        ({"consent_publication": JSON_NULL}, "consent_publication", "true oder false"),
        ({"land": " sn"}, "land", "gibt es nicht"),
        ({"land": ""}, "land", "gibt es nicht"),
        ({"incident_types": ["threat "]}, "incident_types", "gibt es nicht"),
        ({"incident_date": "1.11.2026"}, "incident_date", "Format"),
        ({"incident_date": "2026-11-01 "}, "incident_date", "Format"),
        ({"incident_date": "٢٠٢٦-١١-٠١"}, "incident_date", "Format"),
        ({"date_kind": "month", "incident_date": None, "incident_month": "11/2026"},
         "incident_month", "Format"),
        ({"date_kind": "month", "incident_date": None, "incident_month": "0000-01"},
         "incident_month", "zu weit zurück"),
        # Answers to questions that do not apply are checked all the same (and dropped).
        ({"incident_month": 202611}, "incident_month", "ein Text"),
        ({"incident_month": "2026-13"}, "incident_month", "Format"),
        ({"platform": ["tiktok"]}, "platform", "ein Text"),
        ({"contact_email": ""}, "contact_email", "E-Mail"),
        ({"district": "x" * 120 + " "}, "district", "zu lang"),
    ],
)  # fmt: skip
def test_strict_reading_refuses_what_the_document_forbids(
    changes: dict[str, Any], question: str, message: str
) -> None:
    errors = strict_errors(**changes)
    assert set(errors) == {question}
    assert message in errors[question]
