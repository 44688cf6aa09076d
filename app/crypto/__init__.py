"""Sealing: encryption at rest for every report, with keys that only people hold.

The only package that touches keys. See the README's "Sealing" section for the scheme.
"""

from app.crypto.envelope import ReportKey, new_report_key, open_sealed, seal
from app.crypto.errors import (
    ImageRejected,
    KeysAlreadyInitialised,
    KeysNotInitialised,
    SealError,
    SessionLocked,
    WrongPassword,
)
from app.crypto.keys import unwrap, wrap_for_organisation

__all__ = [
    "ImageRejected",
    "KeysAlreadyInitialised",
    "KeysNotInitialised",
    "ReportKey",
    "SealError",
    "SessionLocked",
    "WrongPassword",
    "new_report_key",
    "open_sealed",
    "seal",
    "unwrap",
    "wrap_for_organisation",
]
