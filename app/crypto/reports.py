"""Sealing a whole report into its rows, and opening it again with unlocked keys."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from app.crypto.attachments import SanitisedImage
from app.crypto.envelope import ReportKey, new_report_key, open_sealed, seal
from app.crypto.errors import SealError
from app.crypto.keys import (
    load_public_key,
    unwrap,
    unwrap_secret,
    wrap_for_organisation,
    wrap_secret,
)
from app.crypto.receipts import (
    ReceiptCode,
    receipt_key,
    unwrap_with_receipt_key,
    wrap_with_receipt,
)
from app.models import Attachment, OrgKey, Report, ReportField


@dataclass(frozen=True)
class Evidence:
    """An image ready for sealing, with the name it had on the person's device."""

    image: SanitisedImage
    original_name: str = ""


# Which key an image is sealed under (``Attachment.sealed_with``): sent with the report, the
# data key; added later through the status page, the mailbox key.
WITH_REPORT, WITH_MAILBOX = "report", "mailbox"


@dataclass(frozen=True)
class AttachmentMeta:
    """What is sealed beside an image: the type it was checked as, its size, its original name."""

    mime_type: str
    width: int
    height: int
    original_name: str

    def __repr__(self) -> str:
        return f"AttachmentMeta({self.mime_type}, {self.width}x{self.height})"


@dataclass(frozen=True)
class OpenedAttachment:
    position: int
    data: bytes
    meta: AttachmentMeta

    def __repr__(self) -> str:
        return f"OpenedAttachment({self.position}, {self.meta.mime_type}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class OpenedReport:
    fields: dict[str, str]
    attachments: list[OpenedAttachment] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"OpenedReport(fields={sorted(self.fields)}, attachments={len(self.attachments)})"


def _mailbox_context(report_id: int) -> str:
    return f"mailbox:{report_id}"


def attachment_field(position: int) -> str:
    return f"attachment:{position}"


def seal_report(
    report: Report,
    answers: Mapping[str, str],
    evidence: Sequence[Evidence],
    public_key: X25519PublicKey,
    receipt: ReceiptCode,
) -> None:
    """Fill a flushed ``report`` (it needs its id) with sealed fields and attachments.

    Needs only the organisation's public key: nothing here can open what it sealed.
    """
    data_key, mailbox_key = new_report_key(), new_report_key()
    report.wrapped_data_key = wrap_for_organisation(data_key, public_key, report.id)
    report.wrapped_mailbox_key = wrap_secret(
        mailbox_key.secret_bytes, public_key, _mailbox_context(report.id)
    )
    report.receipt_wrapped_mailbox_key = wrap_with_receipt(
        mailbox_key.secret_bytes, receipt, report.receipt_salt, _mailbox_context(report.id)
    )
    for name, value in answers.items():
        report.fields.append(
            ReportField(name=name, envelope=seal(data_key, report.id, name, value))
        )
    for position, item in enumerate(evidence):
        report.attachments.append(seal_attachment(data_key, report.id, position, item, WITH_REPORT))


def seal_attachment(
    key: ReportKey, report_id: int, position: int, item: Evidence, sealed_with: str
) -> Attachment:
    """One image and its metadata (type, size, original name), both sealed under ``key``."""
    meta = AttachmentMeta(
        item.image.mime_type, item.image.width, item.image.height, item.original_name
    )
    return Attachment(
        report_id=report_id,
        position=position,
        sealed_image=seal_attachment_image(key, report_id, position, item.image.data),
        sealed_metadata=seal_attachment_meta(key, report_id, position, meta),
        sealed_with=sealed_with,
    )


def seal_attachment_image(key: ReportKey, report_id: int, position: int, data: bytes) -> bytes:
    return seal(key, report_id, attachment_field(position), data)


def seal_attachment_meta(
    key: ReportKey, report_id: int, position: int, meta: AttachmentMeta
) -> bytes:
    payload = {"mime_type": meta.mime_type, "width": meta.width, "height": meta.height,
               "original_name": meta.original_name}  # fmt: skip
    return seal(key, report_id, f"{attachment_field(position)}:meta", json.dumps(payload))


def attachment_key(
    report: Report, sealed_with: str, private_keys: Mapping[int, X25519PrivateKey]
) -> ReportKey:
    """The key an image of ``report`` is sealed under.

    Raises:
        SealError: when that key is purged or not among ``private_keys``.
    """
    if sealed_with == WITH_MAILBOX:
        return mailbox_key_for_staff(report, private_keys)
    return report_key(report, private_keys)


def open_attachment_meta(
    key: ReportKey, report_id: int, position: int, sealed_metadata: bytes
) -> AttachmentMeta:
    """Raises: SealError when ``key`` does not open it or it was tampered with."""
    name = f"{attachment_field(position)}:meta"
    raw = json.loads(open_sealed(key, report_id, name, sealed_metadata))
    return AttachmentMeta(
        str(raw["mime_type"]), int(raw["width"]), int(raw["height"]), str(raw["original_name"])
    )


def open_attachment(key: ReportKey, attachment: Attachment) -> OpenedAttachment:
    """An image and its metadata, opened with ``attachment_key``'s key.

    Raises:
        SealError: when ``key`` does not open it or it was tampered with.
    """
    report_id, position = attachment.report_id, attachment.position
    return OpenedAttachment(
        position,
        open_sealed(key, report_id, attachment_field(position), attachment.sealed_image),
        open_attachment_meta(key, report_id, position, attachment.sealed_metadata),
    )


def report_key(report: Report, private_keys: Mapping[int, X25519PrivateKey]) -> ReportKey:
    """Raises: SealError when the report's key is purged or not among ``private_keys``."""
    if report.wrapped_data_key is None:
        raise SealError("this report's personal data has been purged")
    return unwrap(report.wrapped_data_key, private_keys[report.org_key_id], report.id)


def open_report(report: Report, private_keys: Mapping[int, X25519PrivateKey]) -> OpenedReport:
    """Every sealed field and attachment of ``report``, opened.

    Raises:
        SealError: when a key is missing or anything was tampered with.
    """
    key = report_key(report, private_keys)
    fields = {
        item.name: open_sealed(key, report.id, item.name, item.envelope).decode("utf-8")
        for item in report.fields
    }
    attachments = [
        open_attachment(attachment_key(report, item.sealed_with, private_keys), item)
        for item in report.attachments
    ]
    return OpenedReport(fields, attachments)


def mailbox_key_for_staff(
    report: Report, private_keys: Mapping[int, X25519PrivateKey]
) -> ReportKey:
    if report.wrapped_mailbox_key is None:
        raise SealError("this report's mailbox has been purged")
    raw = unwrap_secret(
        report.wrapped_mailbox_key, private_keys[report.org_key_id], _mailbox_context(report.id)
    )
    return ReportKey(raw)


def mailbox_key_for_reporter(report: Report, receipt: ReceiptCode) -> ReportKey:
    """The mailbox key from the receipt code alone (no organisation key involved).

    Raises:
        SealError: when the mailbox is purged or the code does not open it.
    """
    return mailbox_key_from_receipt_key(report, receipt_key(receipt, report.receipt_salt))


def mailbox_key_from_receipt_key(report: Report, key: bytes) -> ReportKey:
    """The mailbox key from the key a receipt code derives (what a status session keeps).

    Once the report is purged its receipt-wrapped mailbox key is gone, and ``key`` opens nothing.

    Raises:
        SealError: when the mailbox is purged or ``key`` does not open it.
    """
    if report.receipt_wrapped_mailbox_key is None:
        raise SealError("this report's mailbox has been purged")
    raw = unwrap_with_receipt_key(
        report.receipt_wrapped_mailbox_key, key, _mailbox_context(report.id)
    )
    return ReportKey(raw)


def message_field(number: int) -> str:
    return f"message:{number}"


def seal_message(mailbox_key: ReportKey, report: Report, number: int, text: str) -> bytes:
    """A message between staff and reporter, readable by both sides of the mailbox."""
    return seal(mailbox_key, report.id, message_field(number), text)


def open_message(mailbox_key: ReportKey, report: Report, number: int, envelope: bytes) -> str:
    return open_sealed(mailbox_key, report.id, message_field(number), envelope).decode("utf-8")


def rewrap_report(report: Report, old_private: X25519PrivateKey, incoming: OrgKey) -> None:
    """Wrap the report's keys to ``incoming``; the sealed fields themselves stay as they are."""
    new_public = load_public_key(incoming.public_key)
    if report.wrapped_data_key is not None:
        key = unwrap(report.wrapped_data_key, old_private, report.id)
        report.wrapped_data_key = wrap_for_organisation(key, new_public, report.id)
    if report.wrapped_mailbox_key is not None:
        context = _mailbox_context(report.id)
        raw = unwrap_secret(report.wrapped_mailbox_key, old_private, context)
        report.wrapped_mailbox_key = wrap_secret(raw, new_public, context)
    report.org_key_id = incoming.id
