"""Working a case: the queue, opening the sealed report, state changes, coding, notes, mailbox.

Each action is one named function. It checks the rule it guarantees, changes the rows and adds
its audit event (tag ``case:…``; ids and codes only, never what anyone wrote) to the same
transaction. Nothing here commits: the request commits once at its end, and only if it succeeded,
so a change and its audit event land together or not at all.

One module per part of the work: ``queue``, ``opening`` (what the page shows, and unsealing),
``workflow`` (states, assignment, duplicates, deletion), ``coding`` and ``mailbox`` (notes and
messages); ``errors`` holds the refusals. Callers use the names re-exported here.
"""

from app.mailbox import TextRefused
from app.moderation.cases.coding import (
    CODED_QUESTIONS,
    code_case,
    moderator_codes,
    reporter_codes,
)
from app.moderation.cases.errors import (
    AssigneeNotAllowed,
    AttachmentNotFound,
    CaseNotCoded,
    CaseRefused,
    DuplicateRefused,
    InvalidCoding,
    PersonalDataGone,
    SealedDataUnreadable,
    TransitionNotAllowed,
)
from app.moderation.cases.mailbox import (
    add_note,
    send_to_reporter,
)
from app.moderation.cases.opening import (
    SAFE_IMAGE_TYPES,
    AttachmentInfo,
    CaseFacts,
    OpenedCase,
    OpenedNote,
    case_facts,
    open_attachment,
    open_case,
    report_of,
)
from app.moderation.cases.queue import (
    OPEN_STATES,
    QueueFilters,
    QueuePage,
    QueueRow,
    queue_page,
    state_counts,
)
from app.moderation.cases.workflow import (
    TRANSITIONS,
    assign_case,
    case_workers,
    close_case,
    honour_deletion_request,
    link_duplicate,
    mark_not_verifiable,
    mark_out_of_scope,
    move_case,
    start_review,
    verify_case,
)

__all__ = [
    "AssigneeNotAllowed",
    "AttachmentInfo",
    "AttachmentNotFound",
    "CODED_QUESTIONS",
    "CaseFacts",
    "CaseNotCoded",
    "CaseRefused",
    "DuplicateRefused",
    "InvalidCoding",
    "OPEN_STATES",
    "OpenedCase",
    "OpenedNote",
    "PersonalDataGone",
    "SealedDataUnreadable",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "SAFE_IMAGE_TYPES",
    "TRANSITIONS",
    "TextRefused",
    "TransitionNotAllowed",
    "add_note",
    "assign_case",
    "case_facts",
    "case_workers",
    "close_case",
    "code_case",
    "honour_deletion_request",
    "link_duplicate",
    "mark_not_verifiable",
    "mark_out_of_scope",
    "moderator_codes",
    "move_case",
    "open_attachment",
    "open_case",
    "queue_page",
    "report_of",
    "reporter_codes",
    "send_to_reporter",
    "start_review",
    "state_counts",
    "verify_case",
]
