"""Pure login rules: lockout after repeated failures, sessions that end, codes used once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp


@dataclass(frozen=True)
class Limits:
    lockout_after_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_idle: timedelta = timedelta(hours=12)
    session_max: timedelta = timedelta(days=7)
    access_token: timedelta = timedelta(minutes=10)


def locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def after_failure(failures: int, now: datetime, limits: Limits) -> tuple[int, datetime | None]:
    """The failure count after one more, and until when the account is locked (if it is)."""
    failures += 1
    if failures >= limits.lockout_after_failures:
        return failures, now + limits.lockout
    return failures, None


def session_alive(created_at: datetime, last_used_at: datetime, revoked_at: datetime | None,
                  now: datetime, limits: Limits) -> bool:
    return (revoked_at is None and now - last_used_at <= limits.session_idle
            and now - created_at <= limits.session_max)


def totp_step(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """The time step the code belongs to (this one or its neighbours, for clock drift), if
    it is right and newer than the last one used; None otherwise. A code never works twice."""
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if totp.at(step * totp.interval) == code:
            return step if last_step is None or step > last_step else None
    return None
