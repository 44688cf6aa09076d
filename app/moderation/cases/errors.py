"""Why a case action is refused: the ``CaseRefused`` family.

Each refusal keeps a stable ``reason`` code (for tests and logs), and carries its own words for
the case page (``message``, in the request's language) and its HTTP ``status``: 409 when the
case's present state forbids the step, 422 for input that cannot be taken. A note or message
the text rules refuse raises ``app.mailbox.TextRefused`` instead: the status page refuses the
same texts.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.codebook import current_codebook
from app.config import DEFAULT_LANGUAGE


class CaseRefused(ValueError):
    """A case action is refused; ``message`` says why, in the words the case page shows."""

    reason = "refused"
    status = 422
    text = _l("Dieser Schritt ist im jetzigen Stand des Falls nicht möglich.")

    @property
    def message(self) -> str:
        return str(self.text)


class TransitionNotAllowed(CaseRefused):
    """The transition table has no arrow from the case's state to the wanted one."""

    reason = "transition"
    status = 409
    text = _l("Dieser Schritt ist im jetzigen Stand des Falls nicht möglich.")

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a case in state {current!r} cannot move to {wanted!r}")
        self.current, self.wanted = current, wanted


class CaseNotCoded(CaseRefused):
    """Verifying needs the moderators' coding: verified incidents are counted by it."""

    reason = "not_coded"
    status = 409
    text = _l("Bitte kodieren Sie den Fall, bevor Sie ihn als bestätigt markieren.")


class InvalidCoding(CaseRefused):
    """A code is unknown, missing, or one too many for a single-choice question."""

    reason = "coding"
    text = _l("Die Kodierung ist unvollständig oder enthält unbekannte Codes: „%(question)s“.")

    def __init__(self, question: str) -> None:
        super().__init__(f"the codes for {question!r} are refused")
        self.question = question

    @property
    def message(self) -> str:
        """Names the question as the form labels it, in the request's language."""
        codebook = current_codebook()
        label = self.question
        if self.question in codebook.questions:
            label = codebook.question(self.question).label(str(get_locale() or DEFAULT_LANGUAGE))
        return str(self.text) % {"question": label}


class AssigneeNotAllowed(CaseRefused):
    """Only active admins and moderators work on cases: only they may open the sealed data."""

    reason = "assignee"
    text = _l(
        "Fälle können nur aktiven Konten mit Admin- oder Moderationsrechten zugewiesen werden."
    )


class DuplicateRefused(CaseRefused):
    """A case cannot repeat itself, and duplicate links may not form a cycle."""

    reason = "duplicate"
    status = 409
    text = _l(
        "Ein Fall kann kein Duplikat seiner selbst sein, und Duplikate dürfen keinen Kreis bilden."
    )


class PersonalDataGone(CaseRefused):
    """The report's personal data (and so its keys) was purged, or the case has no report."""

    reason = "purged"
    status = 409
    text = _l("Die persönlichen Daten dieses Falls sind gelöscht.")


class SealedDataUnreadable(CaseRefused):
    """This login's keys do not open the case's seals (a ``SealError`` underneath)."""

    reason = "sealed"
    status = 409
    text = _l("Die versiegelten Daten lassen sich mit den Schlüsseln Ihrer Anmeldung nicht öffnen.")


class AttachmentNotFound(LookupError):
    """The case has no image at that position."""
