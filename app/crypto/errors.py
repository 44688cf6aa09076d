"""Failures of the sealing layer. Messages never contain key material or plaintext."""


class SealError(Exception):
    """A sealed value cannot be made or opened: tampered, misplaced, or the wrong key."""


class KeysNotInitialised(SealError):
    """No organisation key exists yet (run `flask keys init`)."""


class KeysAlreadyInitialised(SealError):
    """An organisation key exists; `flask keys init` refuses to replace it."""


class WrongPassword(SealError):
    """The password or recovery key does not open this key slot."""


class SessionLocked(SealError):
    """The unlocked session is missing, expired, or its cookie secret does not fit."""


class ImageRejected(ValueError):
    """An upload is not an acceptable image; ``reason`` is a stable code for the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
