"""Why a case action is refused: the ``CaseRefused`` family, each with a stable ``reason``.

A note or message the text rules refuse raises ``app.mailbox.TextRefused`` instead: the status
page refuses the same texts.
"""

from __future__ import annotations


class CaseRefused(ValueError):
    """A case action is refused. ``reason`` is a stable code the view turns into a message."""

    reason = "refused"


class TransitionNotAllowed(CaseRefused):
    """The transition table has no arrow from the case's state to the wanted one."""

    reason = "transition"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a case in state {current!r} cannot move to {wanted!r}")
        self.current, self.wanted = current, wanted


class CaseNotCoded(CaseRefused):
    """Verifying needs the moderators' coding: verified incidents are counted by it."""

    reason = "not_coded"


class InvalidCoding(CaseRefused):
    """A code is unknown, missing, or one too many for a single-choice question."""

    reason = "coding"

    def __init__(self, question: str) -> None:
        super().__init__(f"the codes for {question!r} are refused")
        self.question = question


class AssigneeNotAllowed(CaseRefused):
    """Only active admins and moderators work on cases: only they may open the sealed data."""

    reason = "assignee"


class DuplicateRefused(CaseRefused):
    """A case cannot repeat itself, and duplicate links may not form a cycle."""

    reason = "duplicate"


class PersonalDataGone(CaseRefused):
    """The report's personal data (and so its keys) was purged, or the case has no report."""

    reason = "purged"


class AttachmentNotFound(LookupError):
    """The case has no image at that position."""
