"""Argon2id, the one password-based key derivation: staff passwords and their key slots.

Every derivation in the process goes through ``derive_from_password``, one at a time. Two reasons:

- With more than one lane, two Argon2id derivations running at once in one process never finish
  (seen with cryptography 50.0.2 / OpenSSL 4.0: two threads, lanes 2 or 4, both hang at 0 % CPU).
  Under gunicorn's threads two simultaneous logins froze a worker for good. Serialised, any lane
  count is safe, so slots sealed with four lanes still open.
- Each derivation takes ``memory_kib`` (64 MiB by default): one at a time caps a worker's memory,
  whatever number of logins arrive together.

New slots and passwords use one lane: on a small server the extra lanes buy almost nothing once
derivations are serialised anyway, and a single lane is safe even where the lock is not held.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from app.crypto.errors import SealError

# A login waits at most this long for its turn; then it is answered "busy", never left hanging.
WAIT_SECONDS = 20.0
_ONE_AT_A_TIME = threading.Lock()


class KdfBusy(SealError):
    """Too many password checks are waiting; the caller answers "try again shortly"."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: 64 MiB, three passes, one lane by default (about 0.3 s on 2 cores)."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"algorithm": "argon2id", **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KdfParams:
        if data.get("algorithm") != "argon2id":
            raise SealError("unknown key derivation")
        try:
            return cls(int(data["memory_kib"]), int(data["iterations"]), int(data["lanes"]))
        except (KeyError, TypeError, ValueError):
            raise SealError("damaged key derivation parameters") from None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KdfParams:
        """The cost for new slots and passwords (``SLOT_KDF_*`` settings)."""
        return cls(
            memory_kib=int(config["SLOT_KDF_MEMORY_KIB"]),
            iterations=int(config["SLOT_KDF_ITERATIONS"]),
            lanes=int(config["SLOT_KDF_LANES"]),
        )


DEFAULT_KDF = KdfParams()


def derive_from_password(password: str, salt: bytes, params: KdfParams, length: int) -> bytes:
    """Argon2id of ``password``, serialised with every other derivation in this process.

    Raises:
        KdfBusy: when the turn does not come within ``WAIT_SECONDS``.
    """
    kdf = Argon2id(
        salt=salt,
        length=length,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    if not _ONE_AT_A_TIME.acquire(timeout=WAIT_SECONDS):
        raise KdfBusy("too many password checks at once")
    try:
        return kdf.derive(password.encode("utf-8"))
    finally:
        _ONE_AT_A_TIME.release()
