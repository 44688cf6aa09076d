"""The moderators' coding of a case, checked against the codebook, beside the reporter's own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select

from app.audit import AuditTag, record_event
from app.codebook import CHOICE_KINDS, Codebook, current_codebook
from app.codebook.answers import is_visible
from app.extensions import db
from app.models import CaseCode, Incident, User
from app.moderation.cases.errors import InvalidCoding

# The codebook questions the moderators code again: what happened, why, where, to whom. The
# reporter's own answers about themselves (role, age, support wished, ...) are not assessed.
CODED_QUESTIONS = (
    "incident_types",
    "perceived_because",
    "land",
    "town",
    "place_type",
    "platform",
    "target",
)


def reporter_codes(incident: Incident, codebook: Codebook) -> dict[str, list[str]]:
    """The reporter's own classification: each choice question of ``codebook`` to its codes."""
    columns = Incident.__table__.columns
    codes: dict[str, list[str]] = {}
    for question in codebook.questions.values():
        if question.kind == "multi":
            codes[question.id] = incident.codes_for(question.id)
        elif question.kind in CHOICE_KINDS and question.id in columns:
            value = getattr(incident, question.id)
            codes[question.id] = [value] if value else []
    return codes


def moderator_codes(incident: Incident) -> dict[str, list[str]]:
    """The moderators' classification (empty until the case is coded)."""
    codes: dict[str, list[str]] = {}
    rows = db.session.execute(
        select(CaseCode.question, CaseCode.code)
        .where(CaseCode.incident_id == incident.id)
        .order_by(CaseCode.question, CaseCode.code)
    )
    for question, code in rows:
        codes.setdefault(question, []).append(code)
    return codes


def _checked_coding(
    answers: Mapping[str, Sequence[str]], codebook: Codebook
) -> dict[str, list[str]]:
    unknown = set(answers) - set(CODED_QUESTIONS)
    if unknown:
        raise InvalidCoding(sorted(unknown)[0])
    given = {question: list(dict.fromkeys(answers.get(question, ()))) for question in
             CODED_QUESTIONS}  # fmt: skip
    coding: dict[str, list[str]] = {}
    for question_id in CODED_QUESTIONS:
        question = codebook.question(question_id)
        codes = given[question_id]
        # As on the form: a question that does not apply (the platform of an incident that
        # was not online) is dropped, and only then is "required" checked.
        if not is_visible(question, given):
            continue
        if not set(codes) <= set(question.codes):
            raise InvalidCoding(question_id)
        if question.kind != "multi" and len(codes) > 1:
            raise InvalidCoding(question_id)
        if question.required and not codes:
            raise InvalidCoding(question_id)
        if codes:
            coding[question_id] = codes
    return coding


def code_case(
    incident: Incident,
    answers: Mapping[str, Sequence[str]],
    *,
    by: User,
    today: dt.date,
    codebook: Codebook | None = None,
) -> None:
    """Record the moderators' classification of ``incident``, replacing an earlier one.

    ``answers`` maps questions of ``CODED_QUESTIONS`` to codes of ``codebook`` (default: the
    current one), checked with the form's rules: known codes, one for a single choice, required
    questions answered, questions that do not apply dropped. Also records the day, the codebook
    version and the most severe coded type. Writes ``case:code`` with the codes.

    Raises:
        InvalidCoding: naming the first question whose codes are refused.
    """
    codebook = codebook or current_codebook()
    coding = _checked_coding(answers, codebook)
    db.session.execute(delete(CaseCode).where(CaseCode.incident_id == incident.id))
    db.session.add_all(
        CaseCode(incident_id=incident.id, question=question, code=code)
        for question, codes in sorted(coding.items())
        for code in codes
    )
    incident.coded_on = today
    incident.coded_codebook_version = codebook.version
    incident.coded_most_severe_type = codebook.most_severe_type(coding["incident_types"])
    incident.coded_land = coding["land"][0]
    incident.coded_town = next(iter(coding.get("town", ())), None)
    incident.coded_place_type = coding["place_type"][0]
    incident.coded_target = coding["target"][0]
    record_event(
        AuditTag.CASE_CODE,
        f"Case {incident.id} coded",
        actor_id=by.id,
        target_type="incident",
        target_id=incident.id,
        details={"codebook_version": codebook.version, "codes": coding},
    )
