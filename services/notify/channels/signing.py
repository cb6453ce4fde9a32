"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", for the sender and receivers.

The timestamp is signed with the body so a captured request cannot be replayed later with a
fresh timestamp; receivers reject timestamps outside a tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from pydantic import SecretStr

SIGNATURE_HEADER = "X-Casetracker-Signature"
TIMESTAMP_HEADER = "X-Casetracker-Timestamp"
DELIVERY_HEADER = "X-Casetracker-Delivery"
SCHEME = "sha256"
DEFAULT_TOLERANCE = timedelta(minutes=5)

# ASCII digits only: int() would also accept "+1", " 1" or other scripts' digits.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")

Secret = SecretStr | str | bytes


def _key(secret: Secret) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode() if isinstance(secret, str) else secret


def signature(secret: Secret, timestamp: int | str, body: bytes) -> str:
    """The header value for this timestamp and body: "sha256=<hex>"."""
    signed = f"{timestamp}.".encode() + body
    return f"{SCHEME}={hmac.new(_key(secret), signed, hashlib.sha256).hexdigest()}"


def verify_signature(secret: Secret, timestamp: str, body: bytes, header: str, now: datetime,
                     tolerance: timedelta = DEFAULT_TOLERANCE) -> bool:
    """True only if `header` signs exactly this body and timestamp, and the timestamp is fresh.

    Pass the raw request body (not re-encoded JSON), the X-Casetracker-Timestamp and
    X-Casetracker-Signature header values, and the receiver's own clock.
    """
    if not _TIMESTAMP.fullmatch(timestamp or ""):
        return False
    if abs(now.timestamp() - int(timestamp)) > tolerance.total_seconds():
        return False
    expected = signature(secret, timestamp, body).encode()
    # Constant time, so a forger learns nothing from how long a wrong guess took to reject.
    return hmac.compare_digest(expected, (header or "").strip().encode())
