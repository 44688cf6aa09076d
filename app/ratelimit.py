"""Rate limits keyed on a hash of the client address that exists only in this process's memory.

The address is hashed with a random key made at start-up and never written anywhere, so the
limiter's in-memory counters cannot be turned back into addresses, not even by us.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from flask import request

_PROCESS_KEY = os.urandom(32)


def hashed_client() -> str:
    address = (request.remote_addr or "").encode()
    return hmac.new(_PROCESS_KEY, address, hashlib.sha256).hexdigest()[:32]
