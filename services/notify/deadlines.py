"""Pure deadline rules: when an inquiry is due, and whether it must be alerted at a moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from contracts.partial_dates import latest_instant

OVERDUE_NAMESPACE = UUID("6f1c2b1e-4d0a-5b7e-9c3f-2a8e5d7b0c41")
"""Fixed forever: changing it would give already-raised alerts new ids and duplicate them."""


def inquiry_due_at(
    sent_at: str, explicit_due_at: datetime | None, default_response_days: int
) -> datetime:
    """The moment an inquiry counts as unanswered.

    An explicit deadline wins. Otherwise the policy's days run from the *latest* moment the
    (possibly partial) sending date can mean, so "sent in 2025" never alerts before its time.
    """
    if explicit_due_at is not None:
        return explicit_due_at
    return latest_instant(sent_at) + timedelta(days=default_response_days)


def overdue_event_id(inquiry_id: UUID) -> UUID:
    """The id of the one overdue alert an inquiry can have; the same after any restart."""
    return uuid5(OVERDUE_NAMESPACE, f"inquiry_overdue/{inquiry_id}")


@dataclass(frozen=True)
class Deadline:
    """What the overdue rule needs to know about one tracked inquiry."""

    inquiry_id: UUID
    case_id: UUID
    due_at: datetime
    answered: bool
    raised: bool


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """Due, unanswered, and not alerted yet: an alert must be raised now."""
    return not deadline.answered and not deadline.raised and deadline.due_at <= now

