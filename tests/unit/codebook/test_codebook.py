"""The codebook (app/codebook): the shipped file, its released hash and the strict loader."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from app.codebook import (
    CODEBOOK_FILE,
    FREE_TEXT_KINDS,
    Codebook,
    CodebookError,
    Text,
    canonical_hash,
    load_codebook,
    parse_codebook,
    released_hashes,
)

# The ids other parts of the service (form, database, statistics) are built against, in order.
SECTIONS: list[tuple[str, list[str]]] = [
    ("role", ["role"]),
    (
        "when",
        [
            "date_kind",
            "incident_date",
            "incident_month",
            "period_start",
            "period_end",
            "time_of_day",
        ],
    ),
    (
        "where",
        ["land", "town", "town_other", "district", "place_type", "platform", "online_link"],
    ),
    ("what", ["incident_types", "other_type", "description"]),
    ("perceived", ["perceived_because"]),
    ("affected", ["target", "gender", "age_band"]),
    (
        "perpetrators",
        ["perpetrator_count", "perpetrator_known", "perpetrator_description", "bystanders"],
    ),
    ("impact", ["impact", "support_wished"]),
    ("reported", ["reported_elsewhere", "why_not", "why_not_text"]),
    ("evidence", ["images"]),
    ("consent", ["consent_special_categories", "consent_publication"]),
    ("contact", ["contact_email"]),
]

# question id, kind, required, show_if as (question, answers) or None
QUESTIONS: list[tuple[str, str, bool, tuple[str, set[str]] | None]] = [
    ("role", "single", True, None),
    ("date_kind", "single", True, None),
    ("incident_date", "date", True, ("date_kind", {"exact"})),
    ("incident_month", "month", True, ("date_kind", {"month"})),
    ("period_start", "date", True, ("date_kind", {"period"})),
    ("period_end", "date", True, ("date_kind", {"period"})),
    ("time_of_day", "single", False, None),
    ("land", "select", True, None),
    ("town", "select", False, None),
    ("town_other", "text", False, ("town", {"other"})),
    ("district", "text", False, None),
    ("place_type", "single", True, None),
    ("platform", "select", True, ("place_type", {"online"})),
    ("online_link", "url", False, ("place_type", {"online"})),
    ("incident_types", "multi", True, None),
    ("other_type", "text", False, ("incident_types", {"other"})),
    ("description", "textarea", True, None),
    ("perceived_because", "multi", False, None),
    ("target", "single", True, None),
    ("gender", "single", False, None),
    ("age_band", "single", False, None),
    ("perpetrator_count", "single", False, None),
    ("perpetrator_known", "single", False, None),
    ("perpetrator_description", "textarea", False, None),
    ("bystanders", "multi", False, None),
    ("impact", "multi", False, None),
    ("support_wished", "single", False, None),
    ("reported_elsewhere", "multi", False, None),
    ("why_not", "multi", False, ("reported_elsewhere", {"none"})),
    ("why_not_text", "textarea", False, ("reported_elsewhere", {"none"})),
    ("images", "images", False, None),
    ("consent_special_categories", "consent", True, None),
    ("consent_publication", "flag", False, None),
    ("contact_email", "email", False, None),
]

# Answer codes of the choice questions (Länder and towns are checked on their own).
ANSWERS: dict[str, list[str]] = {
    "role": ["affected", "witness", "relative", "organisation", "counselling"],
    "date_kind": ["exact", "month", "period"],
    "time_of_day": ["morning", "afternoon", "evening", "night", "unknown"],
    "place_type": [
        "street",
        "public_transport",
        "shop",
        "work",
        "education",
        "authority",
        "health",
        "housing",
        "mosque_community",
        "online",
        "other",
    ],
    "platform": [
        "facebook",
        "instagram",
        "x_twitter",
        "tiktok",
        "youtube",
        "telegram",
        "whatsapp",
        "email",
        "website_comments",
        "other",
    ],
    "incident_types": [
        "extreme_violence",
        "assault",
        "threat",
        "arson",
        "property_damage",
        "desecration",
        "verbal_abuse",
        "hurtful_behaviour",
        "mass_mailing",
        "discrimination_goods",
        "discrimination_housing",
        "discrimination_work",
        "discrimination_authorities",
        "insult_online",
        "other",
    ],
    "perceived_because": [
        "headscarf",
        "name",
        "appearance",
        "language",
        "origin",
        "beard",
        "place",
        "other",
    ],
    "target": ["person", "group", "institution"],
    "gender": ["woman", "man", "diverse", "prefer_not"],
    "age_band": ["under_18", "age_18_29", "age_30_44", "age_45_64", "age_65_plus", "prefer_not"],
    "perpetrator_count": ["one", "several", "unknown"],
    "perpetrator_known": ["known", "stranger", "unknown"],
    "bystanders": ["helped", "did_nothing", "joined_in", "none_present", "unknown"],
    "impact": ["physical", "psychological", "material", "none_stated"],
    "support_wished": ["counselling_referral", "no_support"],
    "reported_elsewhere": ["police", "other_office", "none"],
    "why_not": [
        "no_trust",
        "fear_consequences",
        "not_serious",
        "did_not_know",
        "language",
        "other",
    ],
}

SEVERITY_ORDER = [
    "extreme_violence",
    "arson",
    "assault",
    "threat",
    "desecration",
    "property_damage",
    "discrimination_authorities",
    "discrimination_work",
    "discrimination_housing",
    "discrimination_goods",
    "verbal_abuse",
    "insult_online",
    "mass_mailing",
    "hurtful_behaviour",
    "other",
]

MAX_LENGTHS = {
    "town_other": 120,
    "district": 120,
    "online_link": 2000,
    "other_type": 200,
    "description": 10000,
    "perpetrator_description": 2000,
    "why_not_text": 1000,
    "contact_email": 254,
}

LAENDER = {
    "bw": "Baden-Württemberg",
    "by": "Bayern",
    "be": "Berlin",
    "bb": "Brandenburg",
    "hb": "Bremen",
    "hh": "Hamburg",
    "he": "Hessen",
    "mv": "Mecklenburg-Vorpommern",
    "ni": "Niedersachsen",
    "nw": "Nordrhein-Westfalen",
    "rp": "Rheinland-Pfalz",
    "sl": "Saarland",
    "sn": "Sachsen",
    "st": "Sachsen-Anhalt",
    "sh": "Schleswig-Holstein",
    "th": "Thüringen",
}


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return load_codebook()


# --- the shipped codebook --------------------------------------------------------------------


def test_shipped_codebook_loads(codebook: Codebook) -> None:
    assert codebook.version == list(released_hashes())[-1]  # the newest released version
    assert re.fullmatch(r"[0-9a-f]{64}", codebook.hash)


def test_current_version_is_released_with_this_hash(codebook: Codebook) -> None:
    released = released_hashes()
    assert codebook.version in released, "add the new version and its hash to history.yaml"
    assert released[codebook.version] == codebook.hash, (
        "codebook.yaml changed: bump its version and add a line to history.yaml"
    )


def test_released_hashes_are_distinct() -> None:
    released = released_hashes()
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in released.values())
    assert len(set(released.values())) == len(released)


def test_sections_and_questions_are_in_the_agreed_order(codebook: Codebook) -> None:
    assert [(s.id, [q.id for q in s.questions]) for s in codebook.sections] == SECTIONS


def test_every_question_is_in_the_table(codebook: Codebook) -> None:
    assert list(codebook.questions) == [row[0] for row in QUESTIONS]


@pytest.mark.parametrize(
    ("question_id", "kind", "required", "show_if"),
    QUESTIONS,
    ids=[row[0] for row in QUESTIONS],
)
def test_question_kind_required_and_condition(
    codebook: Codebook,
    question_id: str,
    kind: str,
    required: bool,
    show_if: tuple[str, set[str]] | None,
) -> None:
    question = codebook.question(question_id)
    assert question.kind == kind
    assert question.required is required
    if show_if is None:
        assert question.show_if is None
    else:
        assert question.show_if is not None
        assert (question.show_if.question, set(question.show_if.any_of)) == show_if


@pytest.mark.parametrize(("question_id", "codes"), ANSWERS.items(), ids=list(ANSWERS))
def test_answer_codes(codebook: Codebook, question_id: str, codes: list[str]) -> None:
    assert list(codebook.question(question_id).codes) == codes


def test_free_text_is_bounded_and_sealed(codebook: Codebook) -> None:
    free_text = {q.id: q for q in codebook.questions.values() if q.kind in FREE_TEXT_KINDS}
    assert {qid: q.max_length for qid, q in free_text.items()} == MAX_LENGTHS
    assert all(q.sealed for q in free_text.values())
    images = codebook.question("images")
    assert images.max_files == 5
    assert images.sealed
    assert not codebook.question("land").sealed
    assert not codebook.question("incident_date").sealed


# --- where ----------------------------------------------------------------------------------


def test_the_sixteen_laender(codebook: Codebook) -> None:
    land = codebook.question("land")
    assert {answer.code: answer.label("de") for answer in land.answers} == LAENDER
    assert land.answer("by").label("en") == "Bavaria"
    assert land.answer("nw").label("en") == "North Rhine-Westphalia"
    assert land.answer("sn").label("en") == "Saxony"


def test_towns(codebook: Codebook) -> None:
    town = codebook.question("town")
    lands = set(codebook.question("land").codes)
    cities = town.answers[:-1]
    assert len(cities) >= 70
    assert {"berlin", "hamburg", "muenchen", "koeln", "leipzig", "dresden"} <= set(town.codes)
    assert all(city.land in lands for city in cities)
    assert all(city.label("de") == city.label("en") for city in cities), (
        "towns keep their German name"
    )
    other = town.answers[-1]
    assert other.code == "other"
    assert other.land is None
    assert other.label("en") == "Another town or municipality (not in the list)"
    # Not to be confused with a town nobody gave (the statistics name that one apart).
    assert "nicht in der Liste" in other.label("de")


@pytest.mark.parametrize(
    ("code", "name", "land"),
    [
        ("berlin", "Berlin", "be"),
        ("muenchen", "München", "by"),
        ("koeln", "Köln", "nw"),
        ("frankfurt_am_main", "Frankfurt am Main", "he"),
        ("halle_saale", "Halle (Saale)", "st"),
        ("leipzig", "Leipzig", "sn"),
        ("dresden", "Dresden", "sn"),
        ("bremerhaven", "Bremerhaven", "hb"),
    ],
)
def test_town_names_and_laender(codebook: Codebook, code: str, name: str, land: str) -> None:
    town = codebook.question("town").answer(code)
    assert (town.label("de"), town.label("en"), town.land) == (name, name, land)


# --- what -----------------------------------------------------------------------------------


def test_incident_types_have_unique_severities_and_osce_categories(codebook: Codebook) -> None:
    types = codebook.question("incident_types").answers
    ranks = [answer.severity for answer in types]
    assert sorted(rank for rank in ranks if rank is not None) == list(range(1, len(types) + 1))
    assert all(answer.osce in codebook.osce_categories for answer in types)
    assert all(answer.help is not None for answer in types)


def test_severity_order(codebook: Codebook) -> None:
    types = codebook.question("incident_types").answers
    assert [a.code for a in sorted(types, key=lambda a: a.severity or 0)] == SEVERITY_ORDER


def test_crimes_and_non_crimes_map_to_the_right_osce_category(codebook: Codebook) -> None:
    types = codebook.question("incident_types")
    assert types.answer("assault").osce == "violent_attack"
    assert types.answer("extreme_violence").osce == "violent_attack"
    assert types.answer("threat").osce == "threat"
    assert types.answer("arson").osce == "arson"
    assert types.answer("property_damage").osce == "damage_to_property"
    for code in types.codes:
        if code.startswith("discrimination_") or code in {"verbal_abuse", "hurtful_behaviour"}:
            assert types.answer(code).osce == "hate_incident"
    assert "not a hate crime" in codebook.osce_categories["hate_incident"]("en")


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({"verbal_abuse", "assault"}, "assault"),
        ({"threat", "extreme_violence"}, "extreme_violence"),
        (set(), None),
        ({"other"}, "other"),
        ({"hurtful_behaviour", "insult_online", "mass_mailing"}, "insult_online"),
        ({"arson", "assault"}, "arson"),
    ],
)
def test_most_severe_type(codebook: Codebook, chosen: set[str], expected: str | None) -> None:
    assert codebook.most_severe_type(chosen) == expected


def test_most_severe_type_rejects_unknown_codes(codebook: Codebook) -> None:
    with pytest.raises(KeyError):
        codebook.most_severe_type({"assault", "nonsense"})


# --- texts ----------------------------------------------------------------------------------


def texts(codebook: Codebook, *, with_towns: bool = True) -> Iterator[Text]:
    yield from codebook.osce_categories.values()
    for section in codebook.sections:
        yield section.title
        if section.intro is not None:
            yield section.intro
        for question in section.questions:
            yield question.label
            if question.help is not None:
                yield question.help
            if question.id == "town" and not with_towns:
                continue
            for answer in question.answers:
                yield answer.label
                if answer.help is not None:
                    yield answer.help


def test_every_text_is_there_in_every_language_of_the_codebook(codebook: Codebook) -> None:
    assert codebook.languages == ("ar", "de", "en", "tr")  # tr and ar wait for their catalogs
    for text in texts(codebook):
        assert set(text) == set(codebook.languages)
        for lang in codebook.languages:
            assert text[lang].strip() == text(lang) != ""
        assert text("xx") == text("de"), "a language without a text falls back to German"


@pytest.mark.parametrize("lang", ["en", "tr", "ar"])
def test_texts_are_translated(codebook: Codebook, lang: str) -> None:
    translatable = list(texts(codebook, with_towns=False))
    same = [text("de") for text in translatable if text("de") == text(lang)]
    assert len(same) <= 0.1 * len(translatable), same


def test_texts_address_people_politely(codebook: Codebook) -> None:
    german = " ".join(text("de") for text in texts(codebook))
    assert re.search(r"\b(du|dich|dir|dein\w*)\b", german, flags=re.IGNORECASE) is None


def test_sealed_questions_say_so(codebook: Codebook) -> None:
    for question_id in ["town_other", "district", "online_link", "description", "images"]:
        help_text = codebook.question(question_id).help
        assert help_text is not None
        assert "versiegelt" in help_text("de")
        assert "sealed" in help_text("en")


# --- the loader rejects malformed codebooks --------------------------------------------------


def t(de: str, en: str | None = None) -> dict[str, str]:
    return {"de": de, "en": en or f"{de} (en)"}


def minimal_codebook() -> dict[str, Any]:
    """A fresh, small codebook the loader accepts; each error case breaks one thing in it."""
    return {
        "version": "test.1",
        "osce_categories": {"violent_attack": t("Gewalt", "Violence")},
        "sections": [
            {
                "id": "where",
                "title": t("Wo?", "Where?"),
                "questions": [
                    {
                        "id": "land",
                        "kind": "select",
                        "required": True,
                        "label": t("Bundesland", "Land"),
                        "answers": [{"code": "by", "label": t("Bayern", "Bavaria")}],
                    },
                    {
                        "id": "town",
                        "kind": "select",
                        "label": t("Stadt", "Town"),
                        "answers": [
                            {"code": "muenchen", "label": t("München"), "land": "by"},
                            {"code": "other", "label": t("Anderer Ort", "Other town")},
                        ],
                    },
                    {
                        "id": "town_other",
                        "kind": "text",
                        "max_length": 120,
                        "label": t("Ort", "Town"),
                        "show_if": {"question": "town", "any_of": ["other"]},
                    },
                ],
            },
            {
                "id": "what",
                "title": t("Was?", "What?"),
                "intro": t("Mehrere Antworten.", "Several answers."),
                "questions": [
                    {
                        "id": "incident_types",
                        "kind": "multi",
                        "required": True,
                        "label": t("Art", "Kind"),
                        "answers": [
                            {
                                "code": "assault",
                                "label": t("Angriff", "Attack"),
                                "help": t("Schlagen", "Hitting"),
                                "severity": 1,
                                "osce": "violent_attack",
                            },
                            {
                                "code": "other",
                                "label": t("Anderes", "Other"),
                                "severity": 2,
                                "osce": "violent_attack",
                            },
                        ],
                    },
                    {
                        "id": "images",
                        "kind": "images",
                        "max_files": 5,
                        "label": t("Bilder", "Images"),
                    },
                ],
            },
        ],
    }


def question_in(data: dict[str, Any], question_id: str) -> dict[str, Any]:
    for section in data["sections"]:
        for question in section["questions"]:
            if question["id"] == question_id:
                return question
    raise KeyError(question_id)


def answer_in(data: dict[str, Any], question_id: str, code: str) -> dict[str, Any]:
    for answer in question_in(data, question_id)["answers"]:
        if answer["code"] == code:
            return answer
    raise KeyError(code)


def test_minimal_codebook_is_valid() -> None:
    codebook = parse_codebook(minimal_codebook())
    assert [q.id for q in codebook.questions.values()] == [
        "land",
        "town",
        "town_other",
        "incident_types",
        "images",
    ]
    assert codebook.most_severe_type(["other", "assault"]) == "assault"


Mutation = Callable[[dict[str, Any]], object]

BROKEN: list[Any] = [
    pytest.param(lambda d: d.pop("version"), "needs a 'version' string", id="missing-version"),
    pytest.param(
        lambda d: d.update(version=2026.1), "needs a 'version' string", id="float-version"
    ),
    pytest.param(
        lambda d: question_in(d, "land").update(colour="red"),
        "sections[0].questions[0]: unknown keys ['colour']",
        id="unknown-question-key",
    ),
    pytest.param(
        lambda d: answer_in(d, "land", "by").update(colour="blue"),
        "unknown keys ['colour']",
        id="unknown-answer-key",
    ),
    pytest.param(
        lambda d: question_in(d, "land").update(kind="checkbox"),
        "(land): kind must be one of",
        id="bad-kind",
    ),
    pytest.param(
        lambda d: question_in(d, "land").update(answers=[]),
        "(land): choice questions, and only they, have answers",
        id="choice-without-answers",
    ),
    pytest.param(
        lambda d: question_in(d, "town_other").update(answers=[{"code": "x", "label": t("X")}]),
        "(town_other): choice questions, and only they, have answers",
        id="answers-on-text",
    ),
    pytest.param(
        lambda d: question_in(d, "town")["answers"].append(
            {"code": "muenchen", "label": t("München")}
        ),
        "(town): duplicate answer codes",
        id="duplicate-answer-codes",
    ),
    pytest.param(
        lambda d: question_in(d, "town_other").pop("max_length"),
        "sections[0].questions[2] (town_other): free text needs a max_length",
        id="free-text-without-max-length",
    ),
    pytest.param(
        lambda d: question_in(d, "town_other").update(max_length="120"),
        "free text needs a max_length",
        id="free-text-max-length-not-int",
    ),
    pytest.param(
        lambda d: question_in(d, "images").pop("max_files"),
        "(images): images need max_files",
        id="images-without-max-files",
    ),
    pytest.param(
        lambda d: question_in(d, "town_other").update(show_if={"question": "town"}),
        "show_if has 'question' and a list 'any_of'",
        id="show-if-without-answers",
    ),
    pytest.param(
        lambda d: question_in(d, "town_other").update(show_if=["town", "other"]),
        "show_if has 'question' and a list 'any_of'",
        id="show-if-not-a-mapping",
    ),
    pytest.param(
        lambda d: question_in(d, "town_other").update(
            show_if={"question": "town", "any_of": ["nowhere"]}
        ),
        "town_other: show_if names an unknown question or answer",
        id="show-if-unknown-answer",
    ),
    pytest.param(
        lambda d: question_in(d, "town_other").update(
            show_if={"question": "city", "any_of": ["other"]}
        ),
        "town_other: show_if names an unknown question or answer",
        id="show-if-unknown-question",
    ),
    pytest.param(
        lambda d: question_in(d, "land").update(label={"de": "Bundesland"}),
        "(land).label: needs a text for each of de, en",
        id="text-missing-english",
    ),
    pytest.param(
        lambda d: question_in(d, "land").update(label={**t("Land"), "fr": "Land"}),
        "needs a text for each of de, en",
        id="text-extra-language",
    ),
    pytest.param(
        lambda d: question_in(d, "land").update(label="Bundesland"),
        "needs a text for each of de, en",
        id="text-not-a-mapping",
    ),
    pytest.param(
        lambda d: d["sections"][0].update(title={"en": "Where?"}),
        "sections[0].title: needs a text for each of de, en",
        id="section-title-missing-german",
    ),
    pytest.param(
        lambda d: question_in(d, "land").update(label={"de": "  ", "en": "Land"}),
        "(land).label: texts must not be empty",
        id="empty-text",
    ),
    pytest.param(
        lambda d: answer_in(d, "incident_types", "assault").update(help={"de": "x", "en": ""}),
        "assault.help: texts must not be empty",
        id="empty-help",
    ),
    pytest.param(
        lambda d: d["osce_categories"].update(violent_attack={"de": "Gewalt", "en": None}),
        "osce_categories.violent_attack: texts must not be empty",
        id="empty-osce-text",
    ),
    pytest.param(
        lambda d: answer_in(d, "land", "by").update(code="By"),
        "a code is lower-case letters, digits and '_'",
        id="upper-case-code",
    ),
    pytest.param(
        lambda d: answer_in(d, "town", "muenchen").update(code="münchen"),
        "a code is lower-case letters, digits and '_'",
        id="non-ascii-code",
    ),
    pytest.param(
        lambda d: question_in(d, "town_other").update(id="town-other"),
        "a code is lower-case letters, digits and '_'",
        id="bad-question-id",
    ),
    pytest.param(
        lambda d: d["sections"][1].update(id="what now"),
        "sections[1]: a code is lower-case letters, digits and '_'",
        id="bad-section-id",
    ),
    pytest.param(
        lambda d: d["osce_categories"].update({"Violence": t("Gewalt")}),
        "osce_categories.Violence: a code is lower-case letters, digits and '_'",
        id="bad-osce-code",
    ),
    pytest.param(
        lambda d: d["sections"][1]["questions"].append(copy.deepcopy(question_in(d, "land"))),
        "question 'land' appears twice",
        id="duplicate-question-id",
    ),
    pytest.param(
        lambda d: d["sections"][1]["questions"].pop(0),
        "needs a multi-choice question 'incident_types'",
        id="missing-incident-types",
    ),
    pytest.param(
        lambda d: question_in(d, "incident_types").update(kind="single"),
        "needs a multi-choice question 'incident_types'",
        id="single-choice-incident-types",
    ),
    pytest.param(
        lambda d: answer_in(d, "incident_types", "other").update(severity=1),
        "every incident type needs its own severity rank",
        id="duplicate-severity",
    ),
    pytest.param(
        lambda d: answer_in(d, "incident_types", "other").pop("severity"),
        "every incident type needs its own severity rank",
        id="missing-severity",
    ),
    pytest.param(
        lambda d: answer_in(d, "incident_types", "other").update(osce="terrorism"),
        "incident type other: unknown OSCE category",
        id="unknown-osce-category",
    ),
    pytest.param(
        lambda d: d.pop("osce_categories"),
        "incident type assault: unknown OSCE category",
        id="no-osce-categories",
    ),
    pytest.param(
        lambda d: d["sections"][0]["questions"].pop(0),
        "the codebook needs the question 'land'",
        id="missing-land",
    ),
    pytest.param(
        lambda d: answer_in(d, "town", "muenchen").update(land="xx"),
        "town muenchen: unknown Land xx",
        id="town-with-unknown-land",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), BROKEN)
def test_loader_rejects(mutate: Mutation, message: str) -> None:
    data = minimal_codebook()
    mutate(data)
    with pytest.raises(CodebookError, match=re.escape(message)):
        parse_codebook(data)


def test_loader_rejects_a_document_that_is_not_a_mapping() -> None:
    with pytest.raises(CodebookError, match="needs a 'version' string"):
        parse_codebook(["version", "2026.1"])


# --- the hash --------------------------------------------------------------------------------


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def test_hash_is_the_canonical_hash_of_the_content(codebook: Codebook) -> None:
    data = yaml.safe_load(CODEBOOK_FILE.read_text(encoding="utf-8"))
    assert canonical_hash(data) == codebook.hash


def test_hash_ignores_layout_key_order_and_comments(codebook: Codebook) -> None:
    source = CODEBOOK_FILE.read_text(encoding="utf-8")
    data = yaml.safe_load(source)
    relaid = yaml.safe_dump(
        reversed_keys(data), sort_keys=False, indent=4, width=40, allow_unicode=False
    )
    assert relaid != source
    assert yaml.safe_load(relaid) == data
    assert parse_codebook(yaml.safe_load(relaid)).hash == codebook.hash
    flow = yaml.safe_dump(data, default_flow_style=True, allow_unicode=True)
    assert parse_codebook(yaml.safe_load(flow)).hash == codebook.hash
    commented = "# a new comment changes nothing\n" + source.replace("\n\n", "\n\n# note\n")
    assert parse_codebook(yaml.safe_load(commented)).hash == codebook.hash


def test_changed_content_changes_the_hash(codebook: Codebook) -> None:
    data = yaml.safe_load(CODEBOOK_FILE.read_text(encoding="utf-8"))
    relabelled = copy.deepcopy(data)
    relabelled["sections"][0]["title"]["en"] = "Who is reporting this?"
    assert parse_codebook(relabelled).hash != codebook.hash
    reordered = copy.deepcopy(data)
    answers = reordered["sections"][0]["questions"][0]["answers"]
    answers[0], answers[1] = answers[1], answers[0]
    assert parse_codebook(reordered).hash != codebook.hash


def test_minimal_hashes_differ_by_one_label() -> None:
    first = minimal_codebook()
    second = minimal_codebook()
    answer_in(second, "land", "by")["label"]["en"] = "Bavaria (Bayern)"
    assert parse_codebook(first).hash == parse_codebook(minimal_codebook()).hash
    assert parse_codebook(first).hash != parse_codebook(second).hash
